// Docker json-file and CRI line decoders: any bytes decode or are rejected with a reason, never a
// crash or an over-read (the input sits exactly at the end of its padded buffer). And a message
// Docker would write (Go escaping) comes back byte-exact, as does a CRI line's content.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <simdjson.h>

#include "inputs/docker/line_decoder.h"
#include "tests/unit/inputs/docker/docker_test_util.h"

using namespace logship::docker;

namespace {

volatile std::size_t g_sink;   // keeps the reads of every view

LineError decode_padded(DockerLineDecoder& d, std::string_view line, DecodedLine* out) {
  // A heap copy sized to the promised padding exactly, so ASan sees any read past it.
  std::unique_ptr<char[]> buf(new char[line.size() + simdjson::SIMDJSON_PADDING]);
  std::memcpy(buf.get(), line.data(), line.size());
  std::memset(buf.get() + line.size(), '}', simdjson::SIMDJSON_PADDING);
  LineError e = d.decode(std::string_view(buf.get(), line.size()),
                         line.size() + simdjson::SIMDJSON_PADDING, out);
  if (e == LineError::kNone) {
    // Views must point into the line or the parser, and be readable.
    std::size_t sum = 0;
    for (char c : out->message) sum += static_cast<unsigned char>(c);
    for (auto& [k, v] : out->attrs) {
      for (char c : k) sum += static_cast<unsigned char>(c);
      for (char c : v) sum += static_cast<unsigned char>(c);
    }
    g_sink = sum;
    // kNone only for a Docker line without `stream` (accepted: the field is informational).
    if (out->stream != logship::Stream::kStdout && out->stream != logship::Stream::kStderr &&
        out->stream != logship::Stream::kNone)
      __builtin_trap();
  }
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DockerLineDecoder docker;
  static CriLineDecoder cri;
  static DecodedLine out;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  decode_padded(docker, in, &out);
  cri.decode(in, &out);

  // Round trips. Docker: the input is the logged text (valid UTF-8 only: Go replaces bad bytes).
  if (simdjson::validate_utf8(in.data(), in.size())) {
    std::string line = logship::docker::testing::docker_line(in, "stderr",
                                                             "2024-05-01T10:00:00.123456789Z");
    line.pop_back();   // the '\n' the file has
    if (decode_padded(docker, line, &out) != LineError::kNone) __builtin_trap();
    if (out.message != in || out.stream != logship::Stream::kStderr) __builtin_trap();
    // Docker's convention: a chunk without its trailing '\n' continues in the next line.
    if (out.partial != (in.empty() || in.back() != '\n')) __builtin_trap();
    if (out.time_ns != 1714557600LL * 1000000000 + 123456789) __builtin_trap();
  }
  // CRI: content is raw bytes up to the line end (no '\n' inside a line).
  if (in.find('\n') == std::string_view::npos) {
    std::string line = "2024-05-01T10:00:00Z stdout P " + std::string(in);
    if (cri.decode(line, &out) != LineError::kNone) __builtin_trap();
    if (out.message != in || !out.partial || out.stream != logship::Stream::kStdout)
      __builtin_trap();
  }
  return 0;
}
