#include "daemon/commands/prometheus_text.h"

#include <cstdlib>

namespace logship::commands {
namespace {

// `key="value",...}` from `p`; false on anything else. Values unescape \\ \" \n.
bool parse_labels(std::string_view s, std::size_t* p, std::map<std::string, std::string>* out) {
  std::size_t i = *p;
  while (i < s.size() && s[i] != '}') {
    const std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return false;
    std::string key(s.substr(i, eq - i));
    std::string value;
    std::size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) {
        ++j;
        value += s[j] == 'n' ? '\n' : s[j];
      } else {
        value += s[j];
      }
    }
    if (j >= s.size()) return false;
    (*out)[std::move(key)] = std::move(value);
    i = j + 1;
    if (i < s.size() && s[i] == ',') ++i;
  }
  if (i >= s.size()) return false;
  *p = i + 1;
  return true;
}

}  // namespace

std::vector<Sample> parse_prometheus_text(std::string_view text) {
  std::vector<Sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      if (!parse_labels(line, &i, &s.labels)) continue;
    }
    while (i < line.size() && line[i] == ' ') ++i;
    const std::string value(line.substr(i, line.find(' ', i) - i));
    if (value.empty()) continue;
    char* end = nullptr;
    s.value = value == "+Inf" ? 1e308 : std::strtod(value.c_str(), &end);
    if (value != "+Inf" && (end == nullptr || *end != '\0')) continue;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace logship::commands
