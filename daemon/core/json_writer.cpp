#include "daemon/core/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace logship::json {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid.
inline std::size_t utf8_sequence(const unsigned char* p, std::size_t left) {
  unsigned char c = p[0];
  if (c < 0xC2) return 0;
  if (c < 0xE0) {
    return (left >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c < 0xF0) {
    if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;        // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;       // surrogates
    return 3;
  }
  if (c < 0xF5) {
    if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) {
      return 0;
    }
    if (c == 0xF0 && p[1] < 0x90) return 0;
    if (c == 0xF4 && p[1] >= 0x90) return 0;
    return 4;
  }
  return 0;
}

// True when any of the 8 bytes in w needs attention: a control byte (< 0x20), '"', '\\' or a
// non-ASCII byte (which must be UTF-8 validated). Lets plain ASCII text be copied 8 bytes a step.
inline bool needs_attention(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t control = (w - kOnes * 0x20) & ~w & kHigh;
  uint64_t q = w ^ (kOnes * '"');
  uint64_t quote = (q - kOnes) & ~q & kHigh;
  uint64_t b = w ^ (kOnes * '\\');
  uint64_t backslash = (b - kOnes) & ~b & kHigh;
  return ((w & kHigh) | control | quote | backslash) != 0;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (needs_attention(w)) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      std::size_t len = utf8_sequence(p + i, n - i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"': out.append("\\\"", 2); break;
      case '\\': out.append("\\\\", 2); break;
      case '\n': out.append("\\n", 2); break;
      case '\r': out.append("\\r", 2); break;
      case '\t': out.append("\\t", 2); break;
      case '\b': out.append("\\b", 2); break;
      case '\f': out.append("\\f", 2); break;
      default:
        if (c < 0x20) {
          char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out.append(buf, 6);
        } else {
          out.append("\xEF\xBF\xBD", 3);  // invalid UTF-8 byte
        }
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
}

void append_value(std::string& out, const Value& v) {
  char buf[32];
  switch (v.type) {
    case ValueType::kString: append_string(out, v.s); return;
    case ValueType::kRawJson: out.append(v.s); return;
    case ValueType::kInt: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.i);
      out.append(buf, r.ptr);
      return;
    }
    case ValueType::kDouble: {
      if (!std::isfinite(v.d)) {   // JSON has no inf or nan
        out.append("null");
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, v.d);
      out.append(buf, r.ptr);
      return;
    }
    case ValueType::kBool: out.append(v.b ? "true" : "false"); return;
    case ValueType::kNull: out.append("null"); return;
  }
}

void append_rfc3339(std::string& out, int64_t time_ns) {
  // Cache the formatted second: consecutive events almost always share it.
  thread_local int64_t cached_sec = INT64_MIN;
  thread_local char cached[20];
  int64_t sec = time_ns / 1000000000;
  int64_t nsec = time_ns % 1000000000;
  if (nsec < 0) {
    nsec += 1000000000;
    --sec;
  }
  if (sec != cached_sec) {
    std::time_t t = static_cast<std::time_t>(sec);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  out.append(cached, 19);
  char frac[11] = {'.', 0, 0, 0, 0, 0, 0, 0, 0, 0, 'Z'};
  for (int k = 9; k >= 1; --k) {
    frac[k] = static_cast<char>('0' + nsec % 10);
    nsec /= 10;
  }
  out.append(frac, 11);
}

std::string encode_source(const SourceInfo& source) {
  std::string out;
  for (const Tag& t : source.tags) {
    out.push_back(',');
    append_string(out, t.key);
    out.push_back(':');
    if (t.type == ValueType::kRawJson) {
      out.append(t.value);
    } else {
      append_string(out, t.value);
    }
  }
  if (!source.labels.empty()) {
    out.append(",\"labels\":{");
    bool first = true;
    for (const auto& [k, v] : source.labels) {
      if (!first) out.push_back(',');
      first = false;
      append_string(out, k);
      out.push_back(':');
      append_string(out, v);
    }
    out.push_back('}');
  }
  return out;
}

void append_event(std::string& out, const Event& e, std::string_view encoded_source,
                  const EventKeys& keys) {
  out.append("{\"", 2);
  out.append(keys.timestamp);
  out.append("\":\"", 3);
  append_rfc3339(out, e.time_ns);
  out.push_back('"');
  if (e.stream != Stream::kNone) {
    out.append(",\"", 2);
    out.append(keys.stream);
    out.append("\":\"", 3);
    out.append(stream_name(e.stream));
    out.push_back('"');
  }
  out.append(",\"", 2);
  out.append(keys.message);
  out.append("\":", 2);
  append_string(out, e.message);
  out.append(encoded_source);
  for (const Field& f : e.fields) {
    out.push_back(',');
    append_string(out, f.key);
    out.push_back(':');
    append_value(out, f.value);
  }
  out.push_back('}');
}

void append_event(std::string& out, const Event& e, const SourceInfo& source,
                  const EventKeys& keys) {
  if (source.tags.empty() && source.labels.empty()) {
    append_event(out, e, std::string_view(), keys);
    return;
  }
  append_event(out, e, encode_source(source), keys);
}

}  // namespace logship::json
