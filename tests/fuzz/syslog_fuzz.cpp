// Syslog over TCP: the framer gives the same frames and errors whatever the read boundaries
// (octet counting and LF framing mixed, oversized frames skipped), and every frame parses to
// views inside it with a valid PRI, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "inputs/syslog/syslog_parser.h"

using namespace logship::syslog;

namespace {

constexpr int64_t kNow = 1717200000LL * 1000000000LL;

struct Out {
  std::vector<std::string> frames;
  std::vector<int> errors;
  bool operator==(const Out&) const = default;
};

bool inside(std::string_view part, std::string_view frame) {
  return part.empty() ||
         (part.data() >= frame.data() && part.data() + part.size() <= frame.data() + frame.size());
}

void parse(std::string_view frame) {
  static ParsedMessage m;
  if (parse_message(frame, kNow, &m) != ParseResult::kOk) return;
  if (m.facility < 0 || m.facility > 23 || m.severity < 0 || m.severity > 7) __builtin_trap();
  for (auto v : {m.hostname, m.app_name, m.procid, m.msgid, m.message})
    if (!inside(v, frame)) __builtin_trap();
  std::string unescaped;
  for (const SdParam& p : m.sd) {
    if (!inside(p.id, frame) || !inside(p.name, frame) || !inside(p.value, frame)) __builtin_trap();
    unescaped.clear();
    unescape_sd_value(p.value, &unescaped);
    if (unescaped.size() > p.value.size()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::size_t max_frame = 16 + data[0];
  uint32_t rng = data[0] * 2654435761u + 7;
  // Exactly-sized heap copies, so a read past a chunk is an ASan report.
  auto run = [&](bool chunked) {
    Out out;
    Framer f(max_frame);
    auto on_frame = [&](std::string_view fr) {
      out.frames.emplace_back(fr);
      parse(fr);
    };
    auto on_error = [&](Framer::Error e) { out.errors.push_back(static_cast<int>(e)); };
    std::size_t at = 1;
    while (at < size) {
      std::size_t n = size - at;
      if (chunked) {
        rng = rng * 1103515245u + 12345u;
        n = std::min<std::size_t>(n, 1 + (rng >> 16) % 40);
      }
      std::vector<char> chunk(data + at, data + at + n);
      f.feed(std::string_view(chunk.data(), n), on_frame, on_error);
      at += n;
    }
    f.finish(on_frame, on_error);
    return out;
  };
  Out whole = run(false);
  Out parts = run(true);
  if (!(whole == parts)) __builtin_trap();
  return 0;
}
