#include "inputs/docker/line_decoder.h"

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

bool digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + static_cast<int>(d);
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Stream parse_stream(std::string_view s) {
  if (s == "stdout") return Stream::kStdout;
  if (s == "stderr") return Stream::kStderr;
  return Stream::kNone;
}

}  // namespace

bool parse_rfc3339_ns(std::string_view s, int64_t* out) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' ||
      !digits(s, 17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  std::size_t p = 19;
  int64_t frac = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    std::size_t n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (n == 9) return false;
      frac = frac * 10 + (s[p] - '0');
      ++n;
      ++p;
    }
    if (n == 0) return false;
    for (; n < 9; ++n) frac *= 10;
  }
  if (p >= s.size()) return false;
  int64_t offset_s = 0;
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    int oh, om;
    if (!digits(s, p + 1, 2, &oh) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !digits(s, p + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return false;
  }
  if (p != s.size()) return false;
  const int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  *out = secs * 1000000000 + frac;
  return true;
}

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
