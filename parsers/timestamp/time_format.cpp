#include "parsers/timestamp/time_format.h"

#include "daemon/core/rfc3339.h"

#include <cmath>
#include <limits>

namespace logship::parsers {

namespace {

constexpr int64_t kNs = 1000000000;

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Reads between min and max digits at t[*i]; false if fewer than min.
bool digits(std::string_view t, std::size_t* i, int min, int max, int64_t* v) {
  int n = 0;
  int64_t x = 0;
  while (n < max && *i < t.size() && is_digit(t[*i])) {
    x = x * 10 + (t[*i] - '0');
    ++*i;
    ++n;
  }
  if (n < min) return false;
  *v = x;
  return true;
}

// A fraction's digits as nanoseconds; digits beyond nine are read and ignored.
bool fraction(std::string_view t, std::size_t* i, int64_t* ns) {
  int n = 0;
  int64_t x = 0;
  while (*i < t.size() && is_digit(t[*i])) {
    if (n < 9) {
      x = x * 10 + (t[*i] - '0');
    }
    ++n;
    ++*i;
  }
  if (n == 0) return false;
  for (int k = n; k < 9; ++k) x *= 10;
  *ns = x;
  return true;
}

// Z | z | +hh:mm | +hhmm | +hh
bool zone(std::string_view t, std::size_t* i, int32_t* off) {
  if (*i >= t.size()) return false;
  char c = t[*i];
  if (c == 'Z' || c == 'z') {
    ++*i;
    *off = 0;
    return true;
  }
  if (c != '+' && c != '-') return false;
  ++*i;
  int64_t h = 0, m = 0;
  if (!digits(t, i, 2, 2, &h)) return false;
  if (*i < t.size() && t[*i] == ':') {
    ++*i;
    if (!digits(t, i, 2, 2, &m)) return false;
  } else if (*i + 1 < t.size() && is_digit(t[*i]) && is_digit(t[*i + 1])) {
    digits(t, i, 2, 2, &m);
  }
  if (h > 23 || m > 59) return false;
  *off = static_cast<int32_t>((h * 3600 + m * 60) * (c == '-' ? -1 : 1));
  return true;
}

constexpr std::string_view kMonths[] = {"january", "february", "march",     "april",
                                        "may",     "june",     "july",      "august",
                                        "september", "october", "november", "december"};
constexpr std::string_view kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                      "thursday", "friday", "saturday"};

// Matches a full or three-letter name, case-insensitively; returns its index or -1.
template <std::size_t N>
int name(std::string_view t, std::size_t* i, const std::string_view (&names)[N]) {
  for (std::size_t k = 0; k < N; ++k) {
    std::string_view full = names[k];
    std::size_t n = 0;
    while (n < full.size() && *i + n < t.size() && lower(t[*i + n]) == full[n]) ++n;
    if (n == full.size() || n == 3) {
      // A three-letter prefix must not be followed by more letters of another word.
      *i += n;
      return static_cast<int>(k);
    }
  }
  return -1;
}

bool valid_date(int64_t y, int64_t m, int64_t d) {
  static constexpr int kDim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int dim = kDim[m - 1] + (m == 2 && leap ? 1 : 0);
  return d <= dim;
}

int64_t civil_year_of(int64_t ns) {
  // Inverse of days_from_civil for the year only (Hinnant's civil_from_days).
  int64_t z = (ns >= 0 ? ns / kNs : (ns - kNs + 1) / kNs) / 86400;
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (m <= 2 ? 1 : 0);
}

bool assemble(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t frac,
              int32_t off, int64_t* out) {
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 60) return false;   // 60: leap second
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - off;
  // Keep within what int64 nanoseconds can hold (years 1678..2262).
  if (secs < -9223372035LL || secs > 9223372035LL) return false;
  *out = secs * kNs + frac;
  return true;
}

}  // namespace

bool parse_fixed_offset(std::string_view s, int32_t* out) {
  if (s == "UTC" || s == "utc" || s == "Z" || s == "GMT" || s.empty()) {
    *out = 0;
    return true;
  }
  std::size_t i = 0;
  return zone(s, &i, out) && i == s.size();
}

Status TimeFormat::compile(std::string_view f, int32_t default_offset_s) {
  default_offset_s_ = default_offset_s;
  steps_.clear();
  if (f == "rfc3339" || f == "iso8601") {
    kind_ = Kind::kRfc3339;
    return Status::ok();
  }
  kind_ = Kind::kEpoch;
  if (f == "epoch" || f == "epoch_s") { epoch_unit_ns_ = kNs; return Status::ok(); }
  if (f == "epoch_ms") { epoch_unit_ns_ = 1000000; return Status::ok(); }
  if (f == "epoch_us") { epoch_unit_ns_ = 1000; return Status::ok(); }
  if (f == "epoch_ns") { epoch_unit_ns_ = 1; return Status::ok(); }
  kind_ = Kind::kPattern;
  if (f.find('%') == std::string_view::npos) {
    return Status::invalid(
        "unknown format \"" + std::string(f) +
        "\": rfc3339, epoch, epoch_s, epoch_ms, epoch_us, epoch_ns or a strptime pattern");
  }
  bool date = false, epoch = false;
  auto add = [&](Op op) { steps_.push_back(Step{op, 0}); };
  for (std::size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == ' ' || c == '\t') {
      if (steps_.empty() || steps_.back().op != Op::kSpace) add(Op::kSpace);
      continue;
    }
    if (c != '%') {
      steps_.push_back(Step{Op::kLiteral, c});
      continue;
    }
    if (++i == f.size()) return Status::invalid("format ends with a lone '%'");
    switch (f[i]) {
      case 'Y': add(Op::kYear4); has_year_ = true; break;
      case 'y': add(Op::kYear2); has_year_ = true; break;
      case 'm': add(Op::kMonth); date = true; break;
      case 'd': add(Op::kDay); break;
      case 'e': add(Op::kDaySpace); break;
      case 'j': add(Op::kYearDay); date = true; break;
      case 'H': add(Op::kHour24); break;
      case 'I': add(Op::kHour12); break;
      case 'M': add(Op::kMinute); break;
      case 'S': add(Op::kSecond); break;
      case 'f': add(Op::kFraction); break;
      case 'p': add(Op::kAmPm); break;
      case 'z': add(Op::kZone); break;
      case 'Z': add(Op::kZoneName); break;
      case 'b': case 'h': case 'B': add(Op::kMonthName); date = true; break;
      case 'a': case 'A': add(Op::kDayName); break;
      case 's': add(Op::kEpochSeconds); epoch = true; break;
      case 'T':
        add(Op::kHour24); steps_.push_back({Op::kLiteral, ':'}); add(Op::kMinute);
        steps_.push_back({Op::kLiteral, ':'}); add(Op::kSecond);
        break;
      case 'F':
        add(Op::kYear4); steps_.push_back({Op::kLiteral, '-'}); add(Op::kMonth);
        steps_.push_back({Op::kLiteral, '-'}); add(Op::kDay);
        has_year_ = date = true;
        break;
      case '%': steps_.push_back(Step{Op::kLiteral, '%'}); break;
      case 'n': case 't':
        if (steps_.empty() || steps_.back().op != Op::kSpace) add(Op::kSpace);
        break;
      default: return Status::invalid(std::string("unsupported directive %") + f[i]);
    }
  }
  if (!date && !epoch) return Status::invalid("format has no date (%m, %b, %j, %F or %s)");
  return Status::ok();
}

bool TimeFormat::parse(std::string_view t, int64_t now_ns, int64_t* out) const {
  while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  switch (kind_) {
    case Kind::kRfc3339: return parse_rfc3339(t, out);
    case Kind::kEpoch: return parse_epoch(t, out);
    case Kind::kPattern: return parse_pattern(t, now_ns, out);
  }
  return false;
}

bool TimeFormat::from_int(int64_t v, int64_t* out) const {
  if (kind_ != Kind::kEpoch) return false;
  if (__builtin_mul_overflow(v, epoch_unit_ns_, out)) return false;
  return true;
}

bool TimeFormat::from_double(double v, int64_t* out) const {
  if (kind_ != Kind::kEpoch || !std::isfinite(v)) return false;
  double ns = v * static_cast<double>(epoch_unit_ns_);
  if (std::fabs(ns) >= 9.2e18) return false;
  *out = static_cast<int64_t>(std::llround(ns));
  return true;
}

bool TimeFormat::parse_rfc3339(std::string_view t, int64_t* out) const {
  std::size_t i = 0;
  int64_t y, mo, d, h, mi, s, frac = 0;
  if (!digits(t, &i, 4, 4, &y) || i >= t.size() || t[i++] != '-') return false;
  if (!digits(t, &i, 2, 2, &mo) || i >= t.size() || t[i++] != '-') return false;
  if (!digits(t, &i, 2, 2, &d) || i >= t.size()) return false;
  char sep = t[i++];
  if (sep != 'T' && sep != 't' && sep != ' ') return false;
  if (!digits(t, &i, 2, 2, &h) || i >= t.size() || t[i++] != ':') return false;
  if (!digits(t, &i, 2, 2, &mi) || i >= t.size() || t[i++] != ':') return false;
  if (!digits(t, &i, 2, 2, &s)) return false;
  if (i < t.size() && (t[i] == '.' || t[i] == ',')) {
    ++i;
    if (!fraction(t, &i, &frac)) return false;
  }
  int32_t off = default_offset_s_;
  if (i < t.size()) {
    if (t[i] == ' ') ++i;   // "2024-05-01 10:00:00 +02:00"
    if (!zone(t, &i, &off)) return false;
  }
  if (i != t.size()) return false;
  return assemble(y, mo, d, h, mi, s, frac, off, out);
}

bool TimeFormat::parse_epoch(std::string_view t, int64_t* out) const {
  std::size_t i = 0;
  bool neg = false;
  if (i < t.size() && t[i] == '-') {
    neg = true;
    ++i;
  }
  int64_t whole = 0;
  if (!digits(t, &i, 1, 19, &whole)) return false;
  int64_t frac_ns = 0;   // fraction of one unit, in ns of a second-sized unit (scaled below)
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!fraction(t, &i, &frac_ns)) return false;
  }
  if (i != t.size()) return false;
  int64_t ns;
  if (__builtin_mul_overflow(whole, epoch_unit_ns_, &ns)) return false;
  // frac_ns is the fraction in billionths; scale it to the unit.
  ns += frac_ns * epoch_unit_ns_ / kNs;
  *out = neg ? -ns : ns;
  return true;
}

bool TimeFormat::parse_pattern(std::string_view t, int64_t now_ns, int64_t* out) const {
  std::size_t i = 0;
  int64_t y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0, frac = 0, yday = -1, epoch = 0;
  int pm = -1;
  bool hour12 = false, have_epoch = false;
  int32_t off = default_offset_s_;
  for (const Step& st : steps_) {
    switch (st.op) {
      case Op::kLiteral:
        if (i >= t.size() || t[i] != st.literal) return false;
        ++i;
        break;
      case Op::kSpace:
        while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
        break;
      case Op::kYear4:
        if (!digits(t, &i, 4, 4, &y)) return false;
        break;
      case Op::kYear2: {
        int64_t yy;
        if (!digits(t, &i, 2, 2, &yy)) return false;
        y = yy < 69 ? 2000 + yy : 1900 + yy;   // POSIX pivot
        break;
      }
      case Op::kMonth:
        if (!digits(t, &i, 1, 2, &mo)) return false;
        break;
      case Op::kDaySpace:
        if (i < t.size() && t[i] == ' ') ++i;
        [[fallthrough]];
      case Op::kDay:
        if (!digits(t, &i, 1, 2, &d)) return false;
        break;
      case Op::kYearDay:
        if (!digits(t, &i, 1, 3, &yday) || yday < 1 || yday > 366) return false;
        break;
      case Op::kHour24:
        if (!digits(t, &i, 1, 2, &h)) return false;
        break;
      case Op::kHour12:
        if (!digits(t, &i, 1, 2, &h) || h < 1 || h > 12) return false;
        hour12 = true;
        break;
      case Op::kMinute:
        if (!digits(t, &i, 1, 2, &mi)) return false;
        break;
      case Op::kSecond:
        if (!digits(t, &i, 1, 2, &s)) return false;
        break;
      case Op::kFraction:
        if (!fraction(t, &i, &frac)) return false;
        break;
      case Op::kAmPm: {
        if (i + 2 > t.size()) return false;
        char a = lower(t[i]), m = lower(t[i + 1]);
        if (m != 'm' || (a != 'a' && a != 'p')) return false;
        pm = a == 'p';
        i += 2;
        break;
      }
      case Op::kZone:
        if (!zone(t, &i, &off)) return false;
        break;
      case Op::kZoneName:
        if (t.substr(i, 3) == "UTC" || t.substr(i, 3) == "GMT") {
          i += 3;
          off = 0;
        } else if (i < t.size() && t[i] == 'Z') {
          ++i;
          off = 0;
        } else {
          return false;   // zone abbreviations are ambiguous; use %z
        }
        break;
      case Op::kMonthName: {
        int k = name(t, &i, kMonths);
        if (k < 0) return false;
        mo = k + 1;
        break;
      }
      case Op::kDayName:
        if (name(t, &i, kDays) < 0) return false;
        break;
      case Op::kEpochSeconds: {
        bool neg = i < t.size() && t[i] == '-';
        if (neg) ++i;
        if (!digits(t, &i, 1, 12, &epoch)) return false;
        if (neg) epoch = -epoch;
        have_epoch = true;
        break;
      }
    }
  }
  if (i != t.size()) return false;
  if (have_epoch) {
    *out = epoch * kNs + frac;
    return true;
  }
  if (hour12) {
    if (pm < 0) return false;
    h = (h % 12) + (pm ? 12 : 0);
  }
  if (yday > 0) {
    if (!has_year_) return false;
    int64_t days = days_from_civil(y, 1, 1) + yday - 1;
    if (h > 23 || mi > 59 || s > 60) return false;
    *out = (days * 86400 + h * 3600 + mi * 60 + s - off) * kNs + frac;
    return true;
  }
  if (!has_year_) {
    // Syslog-style stamps have no year: take the current one, and the previous when that would
    // put the stamp more than a day in the future (December lines read in January).
    y = civil_year_of(now_ns);
    int64_t candidate;
    if (assemble(y, mo, d, h, mi, s, frac, off, &candidate) &&
        candidate <= now_ns + 86400 * kNs) {
      *out = candidate;
      return true;
    }
    return assemble(y - 1, mo, d, h, mi, s, frac, off, out);
  }
  return assemble(y, mo, d, h, mi, s, frac, off, out);
}

}  // namespace logship::parsers
