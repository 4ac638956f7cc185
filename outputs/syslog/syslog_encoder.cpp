#include "outputs/syslog/syslog_encoder.h"

#include <charconv>
#include <cstring>
#include <ctime>

namespace logship::syslog {
namespace {

constexpr std::string_view kNil = "-";
constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
std::size_t utf8_seq(std::string_view s, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[i + 1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[i + 1] > 0x9F) return 0;   // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[i + 1] < 0x90) return 0;
    if (c == 0xF4 && p[i + 1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

ValueSpec ValueSpec::parse(std::string_view s) {
  ValueSpec v;
  if (s.size() >= 3 && s.front() == '{' && s.back() == '}') {
    v.ref = std::string(s.substr(1, s.size() - 2));
  } else {
    v.literal = std::string(s);
  }
  return v;
}

int severity_from_word(std::string_view w) {
  if (w.size() == 1 && w[0] >= '0' && w[0] <= '7') return w[0] - '0';
  static constexpr std::pair<std::string_view, int> kWords[] = {
      {"emerg", 0},   {"emergency", 0}, {"panic", 0},       {"alert", 1},
      {"crit", 2},    {"critical", 2},  {"fatal", 2},       {"err", 3},
      {"error", 3},   {"eror", 3},      {"warn", 4},        {"warning", 4},
      {"notice", 5},  {"info", 6},      {"information", 6}, {"informational", 6},
      {"debug", 7},   {"trace", 7},     {"dbug", 7},        {"verbose", 7}};
  for (const auto& [word, sev] : kWords) {
    if (iequals(w, word)) return sev;
  }
  return -1;
}

int facility_from_name(std::string_view w) {
  static constexpr std::string_view kNames[] = {
      "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
      "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
      "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
  for (int i = 0; i < 24; ++i) {
    if (iequals(w, kNames[i])) return i;
  }
  int v = -1;
  auto r = std::from_chars(w.data(), w.data() + w.size(), v);
  if (r.ec == std::errc() && r.ptr == w.data() + w.size() && v >= 0 && v <= 23) return v;
  return -1;
}

void append_header_field(std::string& out, std::string_view s, std::size_t max) {
  if (s.empty()) {
    out.append(kNil);
    return;
  }
  if (s.size() > max) s = s.substr(0, max);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 33 && u <= 126 ? c : '_');
  }
}

void append_sd_name(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('_');
    return;
  }
  if (s.size() > 32) s = s.substr(0, 32);
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool ok = u >= 33 && u <= 126 && c != '=' && c != ']' && c != '"';
    out.push_back(ok ? c : '_');
  }
}

void append_sd_value(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '"' || c == '\\' || c == ']') {
      out.push_back('\\');
      out.push_back(c);
      ++i;
      continue;
    }
    std::size_t n = utf8_seq(s, i);
    if (n == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
}

void append_utf8(std::string& out, std::string_view s, bool replace_newlines) {
  // Fast path: plain ASCII without line breaks is copied as is.
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x80 || (replace_newlines && (u == '\n' || u == '\r'))) break;
  }
  out.append(s.data(), i);
  while (i < s.size()) {
    char c = s[i];
    if (replace_newlines && (c == '\n' || c == '\r')) {
      out.push_back(' ');
      ++i;
      continue;
    }
    std::size_t n = utf8_seq(s, i);
    if (n == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
}

std::size_t utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s.size();
  std::size_t n = max;
  // Step back over continuation bytes to the start of the cut character.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

Encoder::Encoder(EncoderSettings s) : s_(std::move(s)) {}

int Encoder::severity_of(const Event& e) const {
  if (!s_.severity_field.empty()) {
    if (const Field* f = e.find(s_.severity_field)) {
      if (f->value.type == ValueType::kString) {
        int sev = severity_from_word(f->value.s);
        if (sev >= 0) return sev;
      } else if (f->value.type == ValueType::kInt && f->value.i >= 0 && f->value.i <= 7) {
        return static_cast<int>(f->value.i);
      }
    }
  }
  if (e.stream == Stream::kStderr) return 3;
  if (e.stream == Stream::kStdout) return 6;
  return s_.default_severity;
}

std::string_view Encoder::resolve(const ValueSpec& v, const Event& e, const SourceInfo& src,
                                  std::string& scratch) const {
  if (v.ref.empty()) return v.literal == kNil ? std::string_view() : std::string_view(v.literal);
  if (v.ref == "stream") return e.stream == Stream::kNone ? std::string_view() : stream_name(e.stream);
  if (const Field* f = e.find(v.ref)) {
    if (f->value.type == ValueType::kString) return f->value.s;
    if (f->value.type == ValueType::kInt) {
      scratch.clear();
      append_int(scratch, f->value.i);
      return scratch;
    }
  }
  if (const Tag* t = src.find(v.ref)) return t->value;
  return {};
}

void Encoder::append_time_5424(std::string& out, int64_t ns) {
  int64_t sec = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
  int64_t frac_us = (ns - sec * 1000000000) / 1000;
  if (sec != cached_sec_5424_) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    gmtime_r(&t, &tm);
    std::snprintf(cached_5424_, sizeof cached_5424_, "%04d-%02d-%02dT%02d:%02d:%02d.",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_sec_5424_ = sec;
  }
  out.append(cached_5424_, 20);
  char f[7];
  for (int i = 5; i >= 0; --i) {
    f[i] = static_cast<char>('0' + frac_us % 10);
    frac_us /= 10;
  }
  f[6] = 'Z';
  out.append(f, 7);
}

void Encoder::append_time_3164(std::string& out, int64_t ns) {
  int64_t sec = ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000;
  if (sec != cached_sec_3164_) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    localtime_r(&t, &tm);
    char* p = cached_3164_;
    std::memcpy(p, kMonths[tm.tm_mon], 3);
    p[3] = ' ';
    p[4] = tm.tm_mday < 10 ? ' ' : static_cast<char>('0' + tm.tm_mday / 10);
    p[5] = static_cast<char>('0' + tm.tm_mday % 10);
    p[6] = ' ';
    put2(p + 7, tm.tm_hour);
    p[9] = ':';
    put2(p + 10, tm.tm_min);
    p[12] = ':';
    put2(p + 13, tm.tm_sec);
    cached_sec_3164_ = sec;
  }
  out.append(cached_3164_, 15);
}

void Encoder::append_sd(std::string& out, const Event& e, const SourceInfo& src) {
  std::size_t start = out.size();
  out.push_back('[');
  append_sd_name(out, s_.sd_id);
  std::size_t empty_size = out.size();
  auto param = [&](std::string_view name, std::string_view value) {
    out.push_back(' ');
    append_sd_name(out, name);
    out.append("=\"");
    append_sd_value(out, value);
    out.push_back('"');
  };
  if (s_.sd_tags) {
    for (const Tag& t : src.tags) param(t.key, t.value);
  }
  for (const std::string& name : s_.sd_fields) {
    const Field* f = e.find(name);
    if (f == nullptr) continue;
    switch (f->value.type) {
      case ValueType::kString:
      case ValueType::kRawJson:
        param(name, f->value.s);
        break;
      case ValueType::kInt:
        scratch_.clear();
        append_int(scratch_, f->value.i);
        param(name, scratch_);
        break;
      case ValueType::kDouble: {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, f->value.d);
        param(name, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)));
        break;
      }
      case ValueType::kBool:
        param(name, f->value.b ? "true" : "false");
        break;
      case ValueType::kNull:
        break;
    }
  }
  if (out.size() == empty_size) {
    // An element without parameters is legal but says nothing: write the nil value instead.
    out.resize(start);
    out.append(kNil);
    return;
  }
  out.push_back(']');
}

bool Encoder::encode(std::string& out, const Event& e, const SourceInfo& src) {
  const std::size_t start = out.size();
  const int pri = s_.facility * 8 + severity_of(e);
  std::string procid_buf, app_buf, msgid_buf;
  std::string_view app = resolve(s_.app_name, e, src, app_buf);
  std::string_view procid = resolve(s_.procid, e, src, procid_buf);
  out.push_back('<');
  append_int(out, pri);
  out.push_back('>');
  if (s_.format == Format::k5424) {
    std::string_view msgid = resolve(s_.msgid, e, src, msgid_buf);
    out.append("1 ");
    append_time_5424(out, e.time_ns);
    out.push_back(' ');
    append_header_field(out, s_.hostname, 255);
    out.push_back(' ');
    append_header_field(out, app, 48);
    out.push_back(' ');
    append_header_field(out, procid, 128);
    out.push_back(' ');
    append_header_field(out, msgid, 32);
    out.push_back(' ');
    if (s_.sd_id.empty()) {
      out.append(kNil);
    } else {
      append_sd(out, e, src);
    }
    if (!e.message.empty()) {
      out.push_back(' ');
      if (s_.bom) out.append(kBom);
      append_utf8(out, e.message, s_.replace_newlines);
    }
  } else {
    append_time_3164(out, e.time_ns);
    out.push_back(' ');
    append_header_field(out, s_.hostname, 255);
    out.push_back(' ');
    // TAG: alphanumerics by the RFC; '-', '_', '.' and '/' are common in practice and parsed
    // by rsyslog, so they stay.
    std::size_t tag_len = 0;
    for (char c : app) {
      if (tag_len == 32) break;
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '/';
      out.push_back(ok ? c : '_');
      ++tag_len;
    }
    if (tag_len == 0) out.append(kNil);
    if (!procid.empty()) {
      out.push_back('[');
      append_header_field(out, procid, 128);
      out.push_back(']');
    }
    out.append(": ");
    append_utf8(out, e.message, s_.replace_newlines);
  }
  if (s_.max_size > 0 && out.size() - start > s_.max_size) {
    std::string_view whole(out.data() + start, out.size() - start);
    out.resize(start + utf8_prefix(whole, s_.max_size));
    return true;
  }
  return false;
}

}  // namespace logship::syslog
