#include "config/substitution.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace logship::config {

bool substitute(std::string_view in, std::string* out, std::string* error) {
  out->clear();
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] == '$' && i + 2 < in.size() && in[i + 1] == '$' && in[i + 2] == '{') {
      out->append("${");
      i += 3;
      continue;
    }
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out->push_back(in[i++]);
      continue;
    }
    std::size_t close = in.find('}', i + 2);
    if (close == std::string_view::npos) {
      *error = "unterminated '${' in value";
      return false;
    }
    std::string_view expr = in.substr(i + 2, close - i - 2);
    if (expr.rfind("file:", 0) == 0) {
      std::string path(expr.substr(5));
      std::ifstream f(path, std::ios::binary);
      if (!f) {
        *error = "cannot read secret file '" + path + "'";
        return false;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      std::string content = ss.str();
      if (!content.empty() && content.back() == '\n') content.pop_back();
      if (!content.empty() && content.back() == '\r') content.pop_back();
      out->append(content);
    } else {
      std::string name(expr);
      std::string fallback;
      bool has_fallback = false;
      if (auto p = name.find(":-"); p != std::string::npos) {
        fallback = name.substr(p + 2);
        name.resize(p);
        has_fallback = true;
      }
      const char* v = std::getenv(name.c_str());
      if (v != nullptr && *v != '\0') {
        out->append(v);
      } else if (has_fallback) {
        out->append(fallback);
      } else {
        *error = "environment variable '" + name + "' is not set (use ${" + name +
                 ":-default} for a default)";
        return false;
      }
    }
    i = close + 1;
  }
  return true;
}

}  // namespace logship::config
