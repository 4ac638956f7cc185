#include "daemon/core/condition/field_path.h"

#include <charconv>

namespace logship::condition {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_space(std::string_view s, std::size_t* i) {
  while (*i < s.size() && is_space(s[*i])) ++*i;
}

// Moves *i past the string starting at s[*i] == '"'. False when unterminated.
bool skip_string(std::string_view s, std::size_t* i, bool* has_escape) {
  ++*i;
  while (*i < s.size()) {
    char c = s[*i];
    if (c == '\\') {
      *has_escape = true;
      *i += 2;
      continue;
    }
    ++*i;
    if (c == '"') return true;
  }
  return false;
}

// Moves *i past one JSON value; nesting is tracked by depth, strings skipped whole.
bool skip_value(std::string_view s, std::size_t* i) {
  skip_space(s, i);
  if (*i >= s.size()) return false;
  bool esc = false;
  if (s[*i] == '"') return skip_string(s, i, &esc);
  if (s[*i] == '{' || s[*i] == '[') {
    int depth = 0;
    while (*i < s.size()) {
      char c = s[*i];
      if (c == '"') {
        if (!skip_string(s, i, &esc)) return false;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++*i;
          return true;
        }
      }
      ++*i;
    }
    return false;
  }
  while (*i < s.size() && s[*i] != ',' && s[*i] != '}' && s[*i] != ']' && !is_space(s[*i])) ++*i;
  return true;
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the body of a JSON string with escapes. Surrogate pairs are kept as two 3-byte
// sequences: enough for comparisons, which is all conditions do with them.
void unescape(std::string_view body, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out->push_back(c);
      continue;
    }
    char n = body[++i];
    switch (n) {
      case 'n': out->push_back('\n'); break;
      case 't': out->push_back('\t'); break;
      case 'r': out->push_back('\r'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'u': {
        uint32_t cp = 0;
        if (i + 5 <= body.size()) {
          auto r = std::from_chars(body.data() + i + 1, body.data() + i + 5, cp, 16);
          if (r.ec == std::errc() && r.ptr == body.data() + i + 5) {
            append_utf8(out, cp);
            i += 4;
            break;
          }
        }
        out->push_back('u');
        break;
      }
      default: out->push_back(n); break;
    }
  }
}

Value token_value(std::string_view tok, std::string* scratch) {
  if (tok.empty()) return Value();
  if (tok.front() == '"') {
    std::string_view body = tok.substr(1, tok.size() >= 2 ? tok.size() - 2 : 0);
    if (body.find('\\') == std::string_view::npos) return Value::string(body);
    unescape(body, scratch);
    return Value::string(*scratch);
  }
  if (tok.front() == '{' || tok.front() == '[') return Value::raw_json(tok);
  if (tok == "true") return Value::boolean(true);
  if (tok == "false") return Value::boolean(false);
  if (tok == "null") return Value();
  int64_t i = 0;
  auto r = std::from_chars(tok.data(), tok.data() + tok.size(), i);
  if (r.ec == std::errc() && r.ptr == tok.data() + tok.size()) return Value::integer(i);
  double d = 0;
  auto rd = std::from_chars(tok.data(), tok.data() + tok.size(), d);
  if (rd.ec == std::errc() && rd.ptr == tok.data() + tok.size()) return Value::real(d);
  return Value::raw_json(tok);
}

}  // namespace

std::optional<Value> json_member(std::string_view s, std::string_view key, std::string* scratch) {
  std::size_t i = 0;
  skip_space(s, &i);
  if (i >= s.size() || s[i] != '{') return std::nullopt;
  ++i;
  while (true) {
    skip_space(s, &i);
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    const std::size_t key_start = i;
    bool esc = false;
    if (!skip_string(s, &i, &esc)) return std::nullopt;
    std::string_view k = s.substr(key_start + 1, i - key_start - 2);
    skip_space(s, &i);
    if (i >= s.size() || s[i] != ':') return std::nullopt;
    ++i;
    skip_space(s, &i);
    const std::size_t value_start = i;
    if (!skip_value(s, &i)) return std::nullopt;
    // Keys with escapes are rare in logs; they are compared as written.
    if (k == key) return token_value(s.substr(value_start, i - value_start), scratch);
    skip_space(s, &i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    return std::nullopt;
  }
}

namespace {

std::optional<Value> descend(Value v, std::string_view rest, std::string* scratch) {
  while (!rest.empty()) {
    if (v.type != ValueType::kRawJson) return std::nullopt;
    std::size_t dot = rest.find('.');
    std::string_view seg = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    auto m = json_member(v.s, seg, scratch);
    if (!m) return std::nullopt;
    v = *m;
  }
  return v;
}

}  // namespace

std::optional<Value> lookup_field(const Event& e, std::string_view path, std::string* scratch) {
  if (const Field* f = e.find(path)) return f->value;
  for (std::size_t dot = path.find('.'); dot != std::string_view::npos;
       dot = path.find('.', dot + 1)) {
    const Field* f = e.find(path.substr(0, dot));
    if (f == nullptr || f->value.type != ValueType::kRawJson) continue;
    if (auto v = descend(f->value, path.substr(dot + 1), scratch)) return v;
  }
  return std::nullopt;
}

}  // namespace logship::condition
