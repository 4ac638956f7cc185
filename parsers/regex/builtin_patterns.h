#pragma once
// Patterns the `regex` parser knows by name (`format:`), with the types of their captures.
#include <string_view>
#include <utility>
#include <vector>

namespace logship::parsers {

struct BuiltinPattern {
  std::string_view name;
  std::vector<std::string_view> patterns;   // tried in order; the first match wins
  std::vector<std::pair<std::string_view, std::string_view>> types;   // group -> type
  std::string_view message_group;   // capture that becomes the message, if any
  bool syslog_pri = false;          // derive facility and severity from `pri`
};

const BuiltinPattern* find_builtin(std::string_view name);
// The NCSA combined pattern (the built-ins combined, nginx and apache).
std::string_view combined_pattern();
std::vector<std::string_view> builtin_names();

}  // namespace logship::parsers
