// Multiline reassembly with the built-in rule sets and detection, over batches cut anywhere: no
// line's bytes are lost, duplicated or reordered. Groups are lines joined with '\n' (split in
// parts by max_lines / max_bytes), so splitting the output events on '\n' gives the input back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"

using namespace logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const ProcessorMaker makers[] = {
      fuzz::bind("multiline", "fz_java", "{rules: java, max_lines: 5, max_bytes: 300B}"),
      fuzz::bind("multiline", "fz_python", "{rules: python, max_lines: 5, max_bytes: 300B}"),
      fuzz::bind("multiline", "fz_go", "{rules: go}"),
      fuzz::bind("multiline", "fz_nodejs", "{rules: nodejs, max_lines: 5}"),
      fuzz::bind("multiline", "fz_dotnet", "{rules: dotnet}"),
      fuzz::bind("multiline", "fz_php", "{rules: php}"),
      fuzz::bind("multiline", "fz_header", "{rules: header, max_bytes: 300B}"),
      fuzz::bind("multiline", "fz_auto", "{rules: auto, max_lines: 5}"),   // detection, statements
  };
  const unsigned per_batch = 1 + data[0] % 4;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto lines = fuzz::split_lines(text);
  for (const auto& maker : makers) {
    auto p = maker();
    std::string out;   // output events joined with '\n'
    bool first = true;
    auto take = [&](const Batch& b) {
      for (const Event& e : b.events()) {
        if (!first) out.push_back('\n');
        first = false;
        out.append(e.message);
      }
    };
    for (std::size_t i = 0; i < lines.size(); i += per_batch) {
      std::vector<std::string_view> part(
          lines.begin() + i, lines.begin() + std::min(lines.size(), i + per_batch));
      auto b = fuzz::batch(part, (data[0] & 0x10) ? Stream::kStdout : Stream::kStderr);
      p->process(*b);
      take(*b);
    }
    Batch f(fuzz::source());
    p->flush(f, SteadyClock::now(), true);
    take(f);
    std::string in;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i) in.push_back('\n');
      in.append(lines[i]);
    }
    if (out != in) __builtin_trap();
  }
  return 0;
}
