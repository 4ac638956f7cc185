#pragma once
// Builds lines exactly as Docker's json-file driver writes them (Go encoding/json escaping).
#include <cstdio>
#include <string>
#include <string_view>

#include <simdjson.h>

namespace logship::docker::testing {

inline std::string go_json_string(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

inline std::string docker_line(std::string_view log, std::string_view stream,
                               std::string_view time, std::string_view attrs_json = {}) {
  std::string l = "{\"log\":" + go_json_string(log) + ",\"stream\":\"" + std::string(stream) + "\"";
  if (!attrs_json.empty()) l += ",\"attrs\":" + std::string(attrs_json);
  l += ",\"time\":\"" + std::string(time) + "\"}\n";
  return l;
}

// A copy of `s` followed by simdjson padding, as the tailer's read buffer has.
struct Padded {
  explicit Padded(std::string_view s) : text(s) {
    text.append(simdjson::SIMDJSON_PADDING, 'x');
  }
  const char* data() const { return text.data(); }
  std::size_t capacity() const { return text.size(); }
  std::string text;
};

}  // namespace logship::docker::testing
