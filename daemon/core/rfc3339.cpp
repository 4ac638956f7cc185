#include "daemon/core/rfc3339.h"

namespace logship {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_rfc3339_prefix(std::string_view s, std::size_t* end, int64_t* ns,
                          bool truncate_fraction) {
  int64_t y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, &y) || s[4] != '-' || !digits(s, 5, 2, &mo) ||
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
    int n = 0;
    std::size_t first = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (n == 9) {
        if (!truncate_fraction) return false;
      } else {
        frac = frac * 10 + (s[p] - '0');
        ++n;
      }
      ++p;
    }
    if (p == first) return false;
    for (; n < 9; ++n) frac *= 10;
  }
  if (p >= s.size()) return false;
  int64_t offset_s = 0;
  if (s[p] == 'Z' || s[p] == 'z') {
    ++p;
  } else if (s[p] == '+' || s[p] == '-') {
    int64_t oh, om;
    if (!digits(s, p + 1, 2, &oh) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !digits(s, p + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[p] == '-' ? -1 : 1);
    p += 6;
  } else {
    return false;
  }
  const int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) *
                           86400 + h * 3600 + mi * 60 + sec - offset_s;
  if (secs <= INT64_MIN / 1000000000 + 1) {
    *ns = INT64_MIN;
  } else if (secs >= INT64_MAX / 1000000000 - 1) {
    *ns = INT64_MAX;
  } else {
    *ns = secs * 1000000000 + frac;
  }
  *end = p;
  return true;
}

bool parse_rfc3339(std::string_view s, int64_t* ns, bool truncate_fraction) {
  std::size_t end = 0;
  return parse_rfc3339_prefix(s, &end, ns, truncate_fraction) && end == s.size();
}

}  // namespace logship
