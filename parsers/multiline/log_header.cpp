#include "parsers/multiline/log_header.h"

#include "parsers/multiline/line_checks.h"

namespace logship::parsers {
namespace {

using lines::digits_at;
using lines::is_alpha;
using lines::is_digit;
using lines::is_upper;

// "HH:MM:SS" at `at`.
bool time_at(std::string_view l, std::size_t at) {
  return digits_at(l, at, 2) && l.size() > at + 7 && l[at + 2] == ':' && digits_at(l, at + 3, 2) &&
         l[at + 5] == ':' && digits_at(l, at + 6, 2);
}

// "YYYY-MM-DD" or "YYYY/MM/DD" at `at`, then 'T' or ' ' and a time.
bool date_time_at(std::string_view l, std::size_t at) {
  if (!digits_at(l, at, 4) || l.size() < at + 11) return false;
  char sep = l[at + 4];
  if ((sep != '-' && sep != '/') || !digits_at(l, at + 5, 2) || l[at + 7] != sep ||
      !digits_at(l, at + 8, 2)) {
    return false;
  }
  char t = l[at + 10];
  return (t == 'T' || t == ' ') && time_at(l, at + 11);
}

bool month_at(std::string_view l, std::size_t at) {
  if (l.size() < at + 3 || !is_upper(l[at])) return false;
  std::string_view m = l.substr(at, 3);
  for (std::string_view name : {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                "Oct", "Nov", "Dec"}) {
    if (m == name) return true;
  }
  return false;
}

// "May 01, 2024 10:00:05 AM" (JUL) or "May  1 10:00:05" (syslog).
bool month_day_header(std::string_view l) {
  if (!month_at(l, 0) || l.size() < 8 || l[3] != ' ') return false;
  if (!(is_digit(l[4]) || l[4] == ' ') || !is_digit(l[5])) return false;
  if (l[6] == ',') return l.size() > 12 && l[7] == ' ' && digits_at(l, 8, 4);
  return l[6] == ' ' && time_at(l, 7);
}

// "01-May-2024 10:00:05"
bool day_month_year_header(std::string_view l) {
  return digits_at(l, 0, 2) && l.size() > 12 && l[2] == '-' && month_at(l, 3) && l[6] == '-' &&
         digits_at(l, 7, 4);
}

std::string_view leading_word(std::string_view l, std::size_t from) {
  std::size_t i = from;
  while (i < l.size() && is_alpha(l[i])) ++i;
  return l.substr(from, i - from);
}

bool bracketed_header(std::string_view l) {
  if (date_time_at(l, 1)) return true;                                   // [2024-05-01 10:00:00
  if (digits_at(l, 1, 2) && l.size() > 7 && (l[3] == '/' || l[3] == '-') && month_at(l, 4)) {
    return true;   // [01/May/2024 (Django), [01-May-2024 (PHP's error_log)
  }
  if (time_at(l, 1)) return true;                                        // [10:00:05.412]
  std::size_t i = 1;
  while (i < l.size() && is_digit(l[i])) ++i;
  if (i >= 11 && i < l.size() && l[i] == ']') return true;               // [1714557605412]
  std::string_view w = leading_word(l, 1);
  return !w.empty() && 1 + w.size() < l.size() && l[1 + w.size()] == ']' && level_word(w);
}

bool dotnet_console_header(std::string_view l) {   // "fail: Microsoft.AspNetCore...[1]"
  if (l.size() < 7 || l[4] != ':' || l[5] != ' ') return false;
  std::string_view w = l.substr(0, 4);
  return w == "fail" || w == "crit" || w == "warn" || w == "info" || w == "dbug" || w == "trce";
}

bool severe_word(std::string_view w) {
  if (w.size() < 3 || w.size() > 9) return false;
  char buf[9];
  for (std::size_t k = 0; k < w.size(); ++k) buf[k] = static_cast<char>(w[k] | 0x20);   // lower
  std::string_view lw(buf, w.size());
  for (std::string_view name : {"error", "err", "warn", "warning", "wrn", "critical", "crit",
                                "fatal", "ftl", "severe", "fail", "failed", "emerg", "alert",
                                "exception"}) {
    if (lw == name) return true;
  }
  return false;
}

}  // namespace

bool log_statement(std::string_view l) {
  if (!log_header(l)) return false;
  l = l.substr(0, 200);
  std::size_t i = 0;
  while (i < l.size()) {
    while (i < l.size() && !is_alpha(l[i])) ++i;
    std::size_t b = i;
    while (i < l.size() && is_alpha(l[i])) ++i;
    if (severe_word(l.substr(b, i - b))) return true;
  }
  return false;
}

bool level_word(std::string_view w) {
  if (w.size() < 4 || w.size() > 8) return false;
  char buf[8];
  for (std::size_t k = 0; k < w.size(); ++k) buf[k] = static_cast<char>(w[k] | 0x20);   // lower
  std::string_view lw(buf, w.size());
  for (std::string_view name : {"error", "warn", "warning", "critical", "fatal", "severe", "info",
                                "debug", "trace", "notice", "alert", "emerg", "crit"}) {
    if (lw == name) return true;
  }
  return false;
}

bool log_header(std::string_view l) {
  if (l.empty()) return false;
  const char c = l[0];
  if (is_digit(c)) return date_time_at(l, 0) || time_at(l, 0) || day_month_year_header(l);
  if (c == '[') return bracketed_header(l);
  if (!is_alpha(c)) return false;
  // Ruby Logger: "E, [2024-..."
  if (l.size() > 4 && is_upper(c) && l[1] == ',' && l[2] == ' ' && l[3] == '[') return true;
  if (month_day_header(l) || dotnet_console_header(l)) return true;
  if (l.starts_with("time=") || l.starts_with("level=") || l.starts_with("ts=")) return true;
  std::string_view w = leading_word(l, 0);
  if (w.size() == l.size()) return false;
  const char after = l[w.size()];
  return (after == ':' || after == ' ') && level_word(w) && (after == ':' || is_upper(w[1]));
}

}  // namespace logship::parsers
