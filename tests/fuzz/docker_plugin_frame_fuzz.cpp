// Docker log-driver frames: any bytes decode as a LogEntry or are rejected (views inside the
// input); what decodes re-encodes and decodes to the same entry; and a stream of frames split
// across arbitrary reads comes out of FrameReader unchanged, oversized frames skipped whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "inputs/docker_plugin/frame.h"

using namespace logship::docker_plugin;

namespace {

bool same(const LogEntryView& a, const LogEntryView& b) {
  return a.source == b.source && a.time_nano == b.time_nano && a.line == b.line &&
         a.partial == b.partial && a.has_partial_meta == b.has_partial_meta && a.last == b.last &&
         a.partial_id == b.partial_id && a.ordinal == b.ordinal;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  LogEntryView e;
  if (decode_log_entry(in, &e).is_ok()) {
    std::string enc;
    encode_log_entry(enc, e);
    LogEntryView back;
    if (!decode_log_entry(enc, &back).is_ok() || !same(e, back)) __builtin_trap();
    // Frame it twice with an oversized frame between, feed in uneven reads.
    std::string stream;
    append_frame(stream, e);
    const std::size_t max = stream.size() - 4;
    std::string big(max + 1 + size % 7, 'x');
    stream += std::string("\0\0\0\0", 4);
    stream[stream.size() - 4] = static_cast<char>((big.size() >> 24) & 0xff);
    stream[stream.size() - 3] = static_cast<char>((big.size() >> 16) & 0xff);
    stream[stream.size() - 2] = static_cast<char>((big.size() >> 8) & 0xff);
    stream[stream.size() - 1] = static_cast<char>(big.size() & 0xff);
    stream += big;
    append_frame(stream, e);
    FrameReader r(max);
    int frames = 0, oversize = 0;
    uint32_t rng = static_cast<uint32_t>(size) * 2654435761u;
    for (std::size_t at = 0; at < stream.size();) {
      rng = rng * 1103515245u + 12345u;
      std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + (rng >> 16) % 13);
      r.feed(stream.data() + at, n);
      at += n;
      std::string_view payload;
      uint64_t over = 0;
      for (;;) {
        auto k = r.next(&payload, &over);
        if (k == FrameReader::Next::kNeedMore) break;
        if (k == FrameReader::Next::kOversize) {
          if (over != big.size()) __builtin_trap();
          ++oversize;
          continue;
        }
        ++frames;
        LogEntryView got;
        if (!decode_log_entry(payload, &got).is_ok() || !same(got, e)) __builtin_trap();
      }
    }
    if (frames != 2 || oversize != 1 || r.buffered() != 0 || r.skipping()) __builtin_trap();
  }
  // Arbitrary bytes as a frame stream.
  FrameReader r(64);
  std::string_view payload;
  r.feed(in.data(), in.size());
  for (int i = 0; i < 100000; ++i) {
    auto k = r.next(&payload);
    if (k == FrameReader::Next::kNeedMore) break;
    if (k == FrameReader::Next::kFrame) (void)decode_log_entry(payload, &e);
  }
  return 0;
}
