#include "inputs/syslog/syslog_parser.h"

#include "daemon/core/rfc3339.h"

#include <cstring>
#include <ctime>

namespace logship::syslog {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[*i].
bool read_num(std::string_view s, std::size_t* i, int n, int* out) {
  if (*i + static_cast<std::size_t>(n) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    char c = s[*i + static_cast<std::size_t>(k)];
    if (!digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *i += static_cast<std::size_t>(n);
  *out = v;
  return true;
}

// RFC 3339 as RFC 5424 allows it (also used by rsyslog's forwarding format in BSD messages).
// Advances *i past it.
bool parse_rfc3339(std::string_view s, std::size_t* i, int64_t* ns) {
  std::size_t len = 0;
  if (!parse_rfc3339_prefix(s.substr(*i), &len, ns, /*truncate_fraction=*/true)) return false;
  *i += len;
  return true;
}

// "Mmm dd hh:mm:ss" (day space- or zero-padded, or a single digit), local time, no year: the
// year that puts the time nearest to now (a December message read in January is last year's).
bool parse_bsd_time(std::string_view s, std::size_t* i, int64_t now_ns, int64_t* ns) {
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::size_t p = *i;
  if (p + 3 > s.size()) return false;
  std::size_t m = kMonths.find(s.substr(p, 3));
  if (m == std::string_view::npos || m % 3 != 0) return false;
  p += 3;
  if (p >= s.size() || s[p] != ' ') return false;
  ++p;
  if (p < s.size() && s[p] == ' ') ++p;
  int d = 0;
  if (p < s.size() && digit(s[p])) d = s[p++] - '0';
  else return false;
  if (p < s.size() && digit(s[p])) d = d * 10 + (s[p++] - '0');
  if (p >= s.size() || s[p++] != ' ') return false;
  int h, mi, se;
  if (!read_num(s, &p, 2, &h) || p >= s.size() || s[p++] != ':' || !read_num(s, &p, 2, &mi) ||
      p >= s.size() || s[p++] != ':' || !read_num(s, &p, 2, &se)) {
    return false;
  }
  if (d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  // Some senders add fractions ("Mmm dd hh:mm:ss.mmm"); keep them.
  int64_t frac = 0;
  if (p < s.size() && s[p] == '.' && p + 1 < s.size() && digit(s[p + 1])) {
    ++p;
    int digits = 0;
    while (p < s.size() && digit(s[p])) {
      if (digits < 9) {
        frac = frac * 10 + (s[p] - '0');
        ++digits;
      }
      ++p;
    }
    for (; digits < 9; ++digits) frac *= 10;
  }
  // mktime is slow and takes a lock: senders repeat a timestamp many times, so cache the last.
  struct Cache {
    int64_t hour = -1;
    int mon = -1, d = -1, h = -1, mi = -1, se = -1;
    int64_t value = 0;
  };
  thread_local Cache cache;
  const int64_t now_hour = now_ns / 3600000000000;
  if (cache.hour == now_hour && cache.mon == static_cast<int>(m) && cache.d == d &&
      cache.h == h && cache.mi == mi && cache.se == se) {
    *ns = cache.value * 1000000000 + frac;
    *i = p;
    return true;
  }
  time_t now = static_cast<time_t>(now_ns / 1000000000);
  struct tm now_tm;
  localtime_r(&now, &now_tm);
  int64_t best = 0;
  int64_t best_dist = INT64_MAX;
  for (int dy = -1; dy <= 1; ++dy) {
    struct tm tm{};
    tm.tm_year = now_tm.tm_year + dy;
    tm.tm_mon = static_cast<int>(m / 3);
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    int64_t dist = static_cast<int64_t>(t) - static_cast<int64_t>(now);
    if (dist < 0) dist = -dist;
    if (dist < best_dist) {
      best_dist = dist;
      best = static_cast<int64_t>(t);
    }
  }
  if (best_dist == INT64_MAX) return false;
  cache = Cache{now_hour, static_cast<int>(m), d, h, mi, se, best};
  *ns = best * 1000000000 + frac;
  *i = p;
  return true;
}

// A header token up to the next space; "-" is nil (empty view).
bool read_token(std::string_view s, std::size_t* i, std::size_t max, std::string_view* out) {
  std::size_t p = *i;
  std::size_t start = p;
  while (p < s.size() && s[p] != ' ') {
    auto u = static_cast<unsigned char>(s[p]);
    if (u < 33 || u > 126) return false;
    ++p;
  }
  if (p == start || p - start > max) return false;
  *out = s.substr(start, p - start);
  if (*out == "-") *out = {};
  *i = p;
  return true;
}

bool sd_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 33 && u <= 126 && c != '=' && c != ']' && c != '"' && c != ' ';
}

bool read_sd_name(std::string_view s, std::size_t* i, std::string_view* out) {
  std::size_t p = *i;
  while (p < s.size() && sd_name_char(s[p])) ++p;
  if (p == *i || p - *i > 32 + 32) return false;   // "@enterprise" ids may exceed 32 in practice
  *out = s.substr(*i, p - *i);
  *i = p;
  return true;
}

bool parse_sd(std::string_view s, std::size_t* i, std::vector<SdParam>* sd) {
  std::size_t p = *i;
  if (p < s.size() && s[p] == '-') {
    *i = p + 1;
    return true;
  }
  if (p >= s.size() || s[p] != '[') return false;
  while (p < s.size() && s[p] == '[') {
    ++p;
    std::string_view id;
    if (!read_sd_name(s, &p, &id)) return false;
    while (p < s.size() && s[p] == ' ') {
      ++p;
      std::string_view name;
      if (!read_sd_name(s, &p, &name)) return false;
      if (p + 1 >= s.size() || s[p] != '=' || s[p + 1] != '"') return false;
      p += 2;
      std::size_t start = p;
      while (p < s.size() && s[p] != '"') {
        if (s[p] == '\\' && p + 1 < s.size()) ++p;
        ++p;
      }
      if (p >= s.size()) return false;
      sd->push_back(SdParam{id, name, s.substr(start, p - start)});
      ++p;   // closing quote
    }
    if (p >= s.size() || s[p] != ']') return false;
    ++p;
  }
  *i = p;
  return true;
}

std::string_view strip_bom(std::string_view m) {
  if (m.substr(0, 3) == kBom) m.remove_prefix(3);
  return m;
}

bool tag_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 32 && u < 127 && c != ':' && c != '[' && c != ']';
}

// TAG[PID]: or TAG: at s[p]. Only taken when it clearly is a tag (ends in ':' or has "[pid]").
bool parse_tag(std::string_view s, std::size_t* i, ParsedMessage* out) {
  std::size_t p = *i;
  std::size_t start = p;
  while (p < s.size() && tag_char(s[p])) ++p;
  if (p == start || p >= s.size()) return false;
  std::string_view tag = s.substr(start, p - start);
  std::string_view pid;
  if (s[p] == '[') {
    std::size_t close = s.find(']', p);
    if (close == std::string_view::npos || close - p > 129) return false;
    pid = s.substr(p + 1, close - p - 1);
    p = close + 1;
    if (p < s.size() && s[p] == ':') ++p;
  } else if (s[p] == ':') {
    ++p;
  } else {
    return false;
  }
  if (p < s.size() && s[p] == ' ') ++p;
  out->app_name = tag;
  out->procid = pid;
  *i = p;
  return true;
}

// The next space-free token, as a hostname candidate; nothing if it looks like a tag.
bool looks_like_hostname(std::string_view s, std::size_t p, std::size_t* end) {
  std::size_t e = p;
  while (e < s.size() && s[e] != ' ') ++e;
  if (e == p || e >= s.size()) return false;   // a hostname is followed by more
  std::string_view tok = s.substr(p, e - p);
  if (tok.back() == ':' || tok.find('[') != std::string_view::npos) return false;
  for (char c : tok) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) return false;
  }
  *end = e;
  return true;
}

}  // namespace

ParseResult parse_message(std::string_view s, int64_t now_ns, ParsedMessage* out) {
  out->facility = out->severity = -1;
  out->version = 0;
  out->time_ns = 0;
  out->hostname = out->app_name = out->procid = out->msgid = out->message = {};
  out->sd.clear();
  out->malformed = false;
  // Senders that end octet-counted frames with a newline anyway (rsyslog's
  // RSYSLOG_SyslogProtocol23Format does): the newline is a terminator, not content.
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  // <PRI>: 1..3 digits, 0..191, no leading zeros (but accept "<0>").
  if (s.size() < 3 || s[0] != '<') return ParseResult::kGarbage;
  std::size_t p = 1;
  int pri = 0;
  std::size_t digits = 0;
  while (p < s.size() && digit(s[p]) && digits < 3) {
    pri = pri * 10 + (s[p] - '0');
    ++p;
    ++digits;
  }
  if (digits == 0 || p >= s.size() || s[p] != '>' || pri > 191) return ParseResult::kGarbage;
  ++p;
  out->facility = pri / 8;
  out->severity = pri % 8;

  // RFC 5424: VERSION "1" and a space.
  if (p + 1 < s.size() && s[p] == '1' && s[p + 1] == ' ') {
    out->version = 1;
    std::size_t q = p + 2;
    auto fail = [&] {
      out->malformed = true;
      out->hostname = out->app_name = out->procid = out->msgid = {};
      out->sd.clear();
      out->message = s.substr(p);
      return ParseResult::kOk;
    };
    if (q < s.size() && s[q] == '-') {
      ++q;
    } else if (!parse_rfc3339(s, &q, &out->time_ns)) {
      return fail();
    }
    if (q >= s.size() || s[q++] != ' ') return fail();
    if (!read_token(s, &q, 255, &out->hostname) || q >= s.size() || s[q++] != ' ') return fail();
    if (!read_token(s, &q, 48, &out->app_name) || q >= s.size() || s[q++] != ' ') return fail();
    if (!read_token(s, &q, 128, &out->procid) || q >= s.size() || s[q++] != ' ') return fail();
    if (!read_token(s, &q, 32, &out->msgid) || q >= s.size() || s[q++] != ' ') return fail();
    if (!parse_sd(s, &q, &out->sd)) return fail();
    if (q < s.size()) {
      if (s[q] != ' ') return fail();
      out->message = strip_bom(s.substr(q + 1));
    }
    return ParseResult::kOk;
  }

  // BSD style: [TIMESTAMP SP] [HOSTNAME SP] [TAG[PID]: ] MSG
  bool have_time = false;
  if (parse_bsd_time(s, &p, now_ns, &out->time_ns) || parse_rfc3339(s, &p, &out->time_ns)) {
    have_time = true;
    if (p < s.size() && s[p] == ' ') ++p;
  }
  std::size_t host_end = 0;
  // Without a timestamp a first word is a tag or message text, not a host (rsyslog agrees).
  if (have_time && looks_like_hostname(s, p, &host_end)) {
    std::size_t after = host_end + 1;
    // "host tag: msg" or "host tag[pid]: msg" -> host; but "tag msg words" with no tag after
    // the first word is still read as a hostname followed by a message, as RFC 3164 says.
    out->hostname = s.substr(p, host_end - p);
    p = after;
  }
  parse_tag(s, &p, out);
  out->message = strip_bom(s.substr(std::min(p, s.size())));
  return ParseResult::kOk;
}

void unescape_sd_value(std::string_view raw, std::string* out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() &&
        (raw[i + 1] == '"' || raw[i + 1] == '\\' || raw[i + 1] == ']')) {
      ++i;
    }
    out->push_back(raw[i]);
  }
}

std::string_view facility_name(int f) {
  static constexpr std::string_view kNames[] = {
      "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
      "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
      "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
  return f >= 0 && f < 24 ? kNames[f] : std::string_view();
}

std::string_view severity_name(int s) {
  static constexpr std::string_view kNames[] = {"emerg", "alert", "crit", "err",
                                                "warning", "notice", "info", "debug"};
  return s >= 0 && s < 8 ? kNames[s] : std::string_view();
}

}  // namespace logship::syslog
