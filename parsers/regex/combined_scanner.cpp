#include "parsers/regex/combined_scanner.h"

namespace logship::parsers {
namespace {

// RE2's \s: [\t\n\f\r ]
inline bool re2_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline bool upper(char c) { return c >= 'A' && c <= 'Z'; }

struct Cursor {
  std::string_view t;
  std::size_t i = 0;
  bool eat(char c) {
    if (i < t.size() && t[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  char peek(std::size_t k = 0) const { return i + k < t.size() ? t[i + k] : '\0'; }
  bool at_end() const { return i >= t.size(); }
};

re2::StringPiece piece(std::string_view t, std::size_t b, std::size_t e) {
  return re2::StringPiece(t.data() + b, e - b);
}

// \S+ followed by a single space.
bool token(Cursor& c, re2::StringPiece* out) {
  std::size_t b = c.i;
  while (!c.at_end() && !re2_space(c.peek())) ++c.i;
  if (c.i == b) return false;
  *out = piece(c.t, b, c.i);
  return c.eat(' ');
}

// A quoted string's body up to the closing quote (not consumed). Escapes are left to RE2.
bool quoted_body(Cursor& c, re2::StringPiece* out) {
  std::size_t b = c.i;
  while (!c.at_end() && c.peek() != '"') {
    if (c.peek() == '\\') return false;
    ++c.i;
  }
  if (c.at_end()) return false;
  *out = piece(c.t, b, c.i);
  return true;
}

}  // namespace

bool scan_combined(std::string_view t, re2::StringPiece* sub) {
  for (char ch : t) {
    // Non-ASCII (RE2 matches UTF-8 characters, not bytes), escapes and line breaks: ask RE2.
    if (static_cast<unsigned char>(ch) >= 0x80 || ch == '\\' || ch == '\n') return false;
  }
  for (int k = 0; k < kCgCount; ++k) sub[k] = re2::StringPiece();
  Cursor c{t};
  if (!token(c, &sub[kCgClient]) || !token(c, &sub[kCgIdent]) || !token(c, &sub[kCgUser])) {
    return false;
  }
  if (!c.eat('[')) return false;
  std::size_t b = c.i;
  while (!c.at_end() && c.peek() != ']') ++c.i;
  if (c.at_end() || c.i == b) return false;
  sub[kCgTime] = piece(t, b, c.i);
  ++c.i;
  if (!c.eat(' ') || !c.eat('"')) return false;

  // The request: METHOD PATH[ HTTP/x] or, failing that, anything up to the quote. Neither may
  // contain a quote here (no escapes), so both end at the same quote.
  const std::size_t req_start = c.i;
  bool method_form = false;
  if (upper(c.peek())) {
    Cursor m = c;
    std::size_t mb = m.i;
    ++m.i;
    while (upper(m.peek()) || m.peek() == '_' || m.peek() == '-') ++m.i;
    std::size_t me = m.i;
    if (m.eat(' ')) {
      std::size_t pb = m.i;
      while (!m.at_end() && m.peek() != ' ' && m.peek() != '"') ++m.i;
      std::size_t pe = m.i;
      re2::StringPiece protocol;
      bool ok = false;
      if (m.peek() == '"') {
        ok = true;
      } else if (m.peek() == ' ' && m.t.substr(m.i + 1).starts_with("HTTP/")) {
        Cursor p = m;
        p.i += 6;
        std::size_t vb = p.i;
        while (digit(p.peek()) || p.peek() == '.') ++p.i;
        if (p.i > vb && p.peek() == '"') {
          protocol = piece(t, m.i + 1, p.i);
          m = p;
          ok = true;
        }
      }
      if (ok) {
        sub[kCgMethod] = piece(t, mb, me);
        sub[kCgPath] = piece(t, pb, pe);
        sub[kCgProtocol] = protocol;
        c = m;
        method_form = true;
      }
    }
  }
  if (!method_form) {
    c.i = req_start;
    if (!quoted_body(c, &sub[kCgRequest])) return false;
  }
  if (!c.eat('"') || !c.eat(' ')) return false;
  // Status: exactly three digits, then a space.
  if (!(digit(c.peek()) && digit(c.peek(1)) && digit(c.peek(2)) && c.peek(3) == ' ')) {
    // With the request form the pattern cannot match any other way either, but let RE2 decide.
    return false;
  }
  sub[kCgStatus] = piece(t, c.i, c.i + 3);
  c.i += 4;
  b = c.i;
  if (digit(c.peek())) {
    while (digit(c.peek())) ++c.i;
  } else if (!c.eat('-')) {
    return false;
  }
  sub[kCgBytes] = piece(t, b, c.i);
  // Optional ` "referer" "agent"`, then anything.
  if (c.peek() == ' ' && c.peek(1) == '"') {
    Cursor r = c;
    r.i += 2;
    re2::StringPiece ref, ua;
    if (quoted_body(r, &ref) && r.eat('"') && r.eat(' ') && r.eat('"') && quoted_body(r, &ua) &&
        r.eat('"')) {
      sub[kCgReferer] = ref;
      sub[kCgUserAgent] = ua;
    }
  }
  // `.*$` takes the rest (no line breaks, checked above).
  sub[0] = re2::StringPiece(t.data(), t.size());
  return true;
}

}  // namespace logship::parsers
