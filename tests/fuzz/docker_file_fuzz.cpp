// The Docker/CRI file decoder fed a file in reads of arbitrary sizes, the way the tailer does
// (unconsumed carry + new bytes in a padded buffer). Never a crash or an over-read, and the
// offset a restart resumes from never passes a byte that was not consumed, nor one still held
// in a pending partial merge; every event's offset lies in what was consumed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <simdjson.h>

#include "inputs/docker/file_decoder.h"

using namespace logship;
using namespace logship::docker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  DecoderOptions o;
  o.format = (data[0] & 1) ? LogFormat::kCri : LogFormat::kDocker;
  o.skip_malformed = (data[0] & 2) != 0;
  o.max_line_size = 16 + (data[1] & 0x3f);   // small, so truncation of merges is reached
  uint32_t rng = data[0] * 2654435761u + data[1];
  std::string_view file(reinterpret_cast<const char*>(data + 2), size - 2);

  static DockerLineDecoder json;
  DecoderStats stats;
  FileDecoder dec(o, &json, &stats);
  static auto source = std::make_shared<SourceInfo>();
  TimePoint now = SteadyClock::now();
  std::string carry;
  uint64_t read_end = 0;   // file offset after the last byte read
  for (std::size_t at = 0; at < file.size();) {
    rng = rng * 1103515245u + 12345u;
    std::size_t step = 1 + (rng >> 16) % 97;
    std::string_view piece = file.substr(at, step);
    at += piece.size();
    read_end += piece.size();
    const std::string buf_text = carry + std::string(piece);
    const std::size_t len = buf_text.size();
    std::unique_ptr<char[]> buf(new char[len + simdjson::SIMDJSON_PADDING]);
    std::memcpy(buf.get(), buf_text.data(), len);
    std::memset(buf.get() + len, '}', simdjson::SIMDJSON_PADDING);
    const uint64_t base = read_end - len;
    Batch batch(source, 8);
    const uint64_t safe_before = dec.safe_offset();
    std::size_t used = dec.consume(buf.get(), len, len + simdjson::SIMDJSON_PADDING, base, batch,
                                   now);
    if (used > len) __builtin_trap();
    carry.assign(buf.get() + used, len - used);
    const uint64_t consumed_end = base + used;
    if (dec.safe_offset() > consumed_end) __builtin_trap();
    for (const Event& e : batch.events()) {
      if (e.offset >= consumed_end) __builtin_trap();
      // An event from bytes before the resume point would be lost by a crash now.
      if (e.offset < safe_before) __builtin_trap();
    }
    if ((rng >> 8) % 5 == 0) {
      now += std::chrono::milliseconds(3000);
      Batch f(source, 4);
      const uint64_t before = dec.safe_offset();
      dec.flush(f, now, false);
      for (const Event& e : f.events()) if (e.offset < before) __builtin_trap();
      if (dec.safe_offset() > consumed_end) __builtin_trap();
    }
  }
  Batch f(source, 4);
  const uint64_t before = dec.safe_offset();
  dec.flush(f, now, true);
  for (const Event& e : f.events()) if (e.offset < before) __builtin_trap();
  if (dec.has_pending()) __builtin_trap();
  if (dec.safe_offset() > read_end - carry.size()) __builtin_trap();
  return 0;
}
