#pragma once
// Character-level checks shared by the built-in rule sets. All are prefix or single-pass scans:
// they run on every line, so nothing here allocates or uses regex.
#include <string_view>

namespace logship::parsers::lines {

inline bool is_ws(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
inline bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_alpha(char c) { return is_upper(c) || is_lower(c); }

inline std::size_t indent(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && is_ws(l[i])) ++i;
  return i;
}

inline bool blank(std::string_view l) {
  for (char c : l) {
    if (!is_ws(c) && c != '\r') return false;
  }
  return true;
}

inline std::string_view rstrip_cr(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

// JSON lines are complete records: never held, never merged.
inline bool json_line(std::string_view l) {
  std::size_t i = indent(l);
  return i < l.size() && l[i] == '{';
}

// `n` digits at `l[at]`.
inline bool digits_at(std::string_view l, std::size_t at, std::size_t n) {
  if (l.size() < at + n) return false;
  for (std::size_t k = at; k < at + n; ++k) {
    if (!is_digit(l[k])) return false;
  }
  return true;
}

// The first token names an exception class and ends the token with ": " or the line:
// "java.lang.IllegalStateException: msg", "System.InvalidOperationException: msg",
// "TypeError: msg", "Error: msg". Qualified names must end in Exception/Error/Throwable so a
// "c.e.shop: started" line is not one; bare names (JavaScript's) only with `bare_names`.
inline bool exception_line(std::string_view l, bool bare_names = true) {
  l = rstrip_cr(l);
  if (l.empty() || !is_alpha(l[0])) return false;
  std::size_t i = 0, last_dot = std::string_view::npos;
  for (; i < l.size(); ++i) {
    char c = l[i];
    if (c == '.') last_dot = i;
    else if (!(is_alpha(c) || is_digit(c) || c == '_' || c == '$')) break;
  }
  std::string_view rest = l.substr(i);
  if (!(rest.empty() || rest.starts_with(": ") || rest == ":")) return false;
  const std::size_t name_at = last_dot == std::string_view::npos ? 0 : last_dot + 1;
  std::string_view simple = l.substr(name_at, i - name_at);
  if (simple.empty() || !is_upper(simple[0])) return false;
  if (last_dot == std::string_view::npos && !bare_names) return false;
  return simple.ends_with("Exception") || simple.ends_with("Error") ||
         (last_dot != std::string_view::npos && simple.ends_with("Throwable"));
}

}  // namespace logship::parsers::lines
