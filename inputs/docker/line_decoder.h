#pragma once
// Decoders for one line of a container log file: Docker json-file and CRI (containerd/CRI-O).
// A decoded line's views stay valid until the next decode() on the same decoder (simdjson keeps
// unescaped strings in its parser buffer), so callers copy what they keep into the batch arena.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "daemon/core/event.h"

namespace logship::docker {

// Why a line could not be decoded; each kind is counted separately in tests and logs.
enum class LineError : uint8_t {
  kNone,
  kBadJson,       // not a JSON object, invalid UTF-8, garbage after the object, truncated
  kMissingLog,    // `log` absent or not a string
  kBadStream,     // `stream` not stdout/stderr
  kBadTime,       // `time` absent or not RFC 3339
  kBadAttrs,      // `attrs` not an object of strings
  kBadFormat,     // CRI: not `<time> <stream> <tag> <content>`
};
std::string_view line_error_name(LineError e);

struct DecodedLine {
  std::string_view message;   // the chunk as logged; for Docker including a trailing '\n'
  Stream stream = Stream::kNone;
  int64_t time_ns = 0;
  bool partial = false;       // this chunk continues in the next line of the same stream
  std::vector<std::pair<std::string_view, std::string_view>> attrs;   // capacity is reused
};

// RFC 3339 with 0..9 fractional digits and `Z` or a `+hh:mm`/`-hh:mm` offset -> ns since epoch.
bool parse_rfc3339_ns(std::string_view s, int64_t* out);

class DockerLineDecoder {
 public:
  // `line` excludes the '\n'. At least simdjson::SIMDJSON_PADDING readable bytes must follow
  // line.data() + line.size() (their content does not matter): `capacity` counts from line.data().
  LineError decode(std::string_view line, std::size_t capacity, DecodedLine* out);

 private:
  simdjson::ondemand::parser parser_;
};

class CriLineDecoder {
 public:
  LineError decode(std::string_view line, DecodedLine* out);
};

}  // namespace logship::docker
