#include "inputs/docker/line_decoder.h"

#include "daemon/core/rfc3339.h"

#include <utility>

namespace logship::docker {

std::string_view line_error_name(LineError e) {
  switch (e) {
    case LineError::kNone: return "none";
    case LineError::kBadJson: return "bad_json";
    case LineError::kMissingLog: return "missing_log";
    case LineError::kBadStream: return "bad_stream";
    case LineError::kBadTime: return "bad_time";
    case LineError::kBadAttrs: return "bad_attrs";
    case LineError::kBadFormat: return "bad_format";
  }
  return "unknown";
}

namespace {

Stream parse_stream(std::string_view s) {
  if (s == "stdout") return Stream::kStdout;
  if (s == "stderr") return Stream::kStderr;
  return Stream::kNone;
}

}  // namespace

bool parse_rfc3339_ns(std::string_view s, int64_t* out) { return parse_rfc3339(s, out); }

LineError DockerLineDecoder::decode(std::string_view line, std::size_t capacity,
                                    DecodedLine* out) {
  using namespace simdjson;
  out->message = {};
  out->stream = Stream::kNone;
  out->time_ns = 0;
  out->partial = false;
  out->attrs.clear();
  ondemand::document doc;
  if (parser_.iterate(line.data(), line.size(), capacity).get(doc)) return LineError::kBadJson;
  ondemand::object obj;
  if (doc.get_object().get(obj)) return LineError::kBadJson;
  bool have_log = false, have_time = false;
  LineError field_error = LineError::kNone;
  for (auto field_result : obj) {
    ondemand::field field;
    if (std::move(field_result).get(field)) return LineError::kBadJson;
    std::string_view key;
    if (field.unescaped_key().get(key)) return LineError::kBadJson;
    ondemand::value value = field.value();
    if (key == "log") {
      if (value.get_string().get(out->message)) {
        if (field_error == LineError::kNone) field_error = LineError::kMissingLog;
        continue;
      }
      have_log = true;
    } else if (key == "stream") {
      std::string_view s;
      if (value.get_string().get(s) || (out->stream = parse_stream(s)) == Stream::kNone) {
        if (field_error == LineError::kNone) field_error = LineError::kBadStream;
      }
    } else if (key == "time") {
      std::string_view s;
      if (value.get_string().get(s) || !parse_rfc3339_ns(s, &out->time_ns)) {
        if (field_error == LineError::kNone) field_error = LineError::kBadTime;
        continue;
      }
      have_time = true;
    } else if (key == "attrs") {
      ondemand::object attrs;
      if (value.get_object().get(attrs)) {
        if (field_error == LineError::kNone) field_error = LineError::kBadAttrs;
        continue;
      }
      for (auto attr_result : attrs) {
        ondemand::field attr;
        std::string_view k, v;
        if (std::move(attr_result).get(attr) || attr.unescaped_key().get(k)) return LineError::kBadJson;
        if (attr.value().get_string().get(v)) {
          if (field_error == LineError::kNone) field_error = LineError::kBadAttrs;
          continue;
        }
        out->attrs.emplace_back(k, v);
      }
    }
    // Unknown keys are skipped: later engine versions may add some.
  }
  // On-demand parsing is lazy; anything after the closing brace means a broken line.
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) return LineError::kBadJson;
  if (field_error != LineError::kNone) return field_error;
  if (!have_log) return LineError::kMissingLog;
  if (!have_time) return LineError::kBadTime;
  out->partial = out->message.empty() || out->message.back() != '\n';
  return LineError::kNone;
}

LineError CriLineDecoder::decode(std::string_view line, DecodedLine* out) {
  out->message = {};
  out->stream = Stream::kNone;
  out->time_ns = 0;
  out->partial = false;
  out->attrs.clear();
  std::size_t a = line.find(' ');
  if (a == std::string_view::npos) return LineError::kBadFormat;
  if (!parse_rfc3339_ns(line.substr(0, a), &out->time_ns)) return LineError::kBadTime;
  std::size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return LineError::kBadFormat;
  out->stream = parse_stream(line.substr(a + 1, b - a - 1));
  if (out->stream == Stream::kNone) return LineError::kBadStream;
  // Tags are ':'-separated; only the first (P or F) means anything today. An empty content
  // has no space after the tags.
  std::size_t c = line.find(' ', b + 1);
  std::string_view tags = line.substr(b + 1, c == std::string_view::npos ? c : c - b - 1);
  std::string_view first = tags.substr(0, tags.find(':'));
  if (first == "P") {
    out->partial = true;
  } else if (first != "F") {
    return LineError::kBadFormat;
  }
  out->message = c == std::string_view::npos ? std::string_view() : line.substr(c + 1);
  return LineError::kNone;
}

}  // namespace logship::docker
