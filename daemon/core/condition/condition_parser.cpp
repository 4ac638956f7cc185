// Parsing and type-checking of conditions: a hand-written lexer and recursive-descent parser
// (precedence: not > and > or) that reports the column of the first problem.
#include <cctype>
#include <charconv>
#include <cmath>

#include <re2/re2.h>

#include "daemon/core/condition/condition.h"
#include "daemon/core/condition/log_level.h"

namespace logship::condition {

std::string CompileError::to_string() const {
  return "column " + std::to_string(column) + ": " + message;
}

std::optional<double> parse_duration_seconds(std::string_view text) {
  std::size_t unit = 0;
  while (unit < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit])) ||
                                text[unit] == '.' || (unit == 0 && text[unit] == '-'))) {
    ++unit;
  }
  if (unit == 0 || unit == text.size()) return std::nullopt;
  double v = 0;
  auto r = std::from_chars(text.data(), text.data() + unit, v);
  if (r.ec != std::errc() || r.ptr != text.data() + unit) return std::nullopt;
  std::string_view u = text.substr(unit);
  double scale = 0;
  if (u == "ns") scale = 1e-9;
  else if (u == "us" || u == "µs") scale = 1e-6;
  else if (u == "ms") scale = 1e-3;
  else if (u == "s") scale = 1;
  else if (u == "m") scale = 60;
  else if (u == "h") scale = 3600;
  else if (u == "d") scale = 86400;
  else return std::nullopt;
  return v * scale;
}

namespace {

struct Token {
  enum class Kind { kEnd, kIdent, kString, kNumber, kSymbol } kind = Kind::kEnd;
  std::string text;      // identifier, decoded string, number spelling or symbol
  std::size_t column = 0;
};

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@';
}
bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '.' ||
         c == '-';
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  bool next(Token* t, CompileError* err) {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    t->column = pos_ + 1;
    t->text.clear();
    if (pos_ >= s_.size()) {
      t->kind = Token::Kind::kEnd;
      return true;
    }
    const char c = s_[pos_];
    if (c == '"' || c == '\'') return string(c, t, err);
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      std::size_t start = pos_++;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                  s_[pos_] == '.' || s_[pos_] == '+' ||
                                  ((s_[pos_] == '-') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E')))) {
        ++pos_;
      }
      t->kind = Token::Kind::kNumber;
      t->text = s_.substr(start, pos_ - start);
      return true;
    }
    if (ident_start(c)) {
      std::size_t start = pos_++;
      while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
      t->kind = Token::Kind::kIdent;
      t->text = s_.substr(start, pos_ - start);
      return true;
    }
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||"};
    for (std::string_view two : kTwo) {
      if (s_.substr(pos_, 2) == two) {
        t->kind = Token::Kind::kSymbol;
        t->text = two;
        pos_ += 2;
        return true;
      }
    }
    if (std::string_view("<>()[],!").find(c) != std::string_view::npos) {
      t->kind = Token::Kind::kSymbol;
      t->text = std::string(1, c);
      ++pos_;
      return true;
    }
    if (c == '=') {
      err->column = pos_ + 1;
      err->message = "'=' is not an operator; compare with '=='";
      return false;
    }
    err->column = pos_ + 1;
    err->message = "unexpected character '" + std::string(1, c) + "'";
    return false;
  }

 private:
  bool string(char quote, Token* t, CompileError* err) {
    const std::size_t start = pos_++;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == quote) {
        t->kind = Token::Kind::kString;
        return true;
      }
      if (c == '\\' && pos_ < s_.size()) {
        char n = s_[pos_++];
        switch (n) {
          case 'n': t->text.push_back('\n'); break;
          case 't': t->text.push_back('\t'); break;
          case 'r': t->text.push_back('\r'); break;
          default: t->text.push_back(n); break;   // \" \' \\ and, for regexes, \d \. etc.
        }
        if (n != 'n' && n != 't' && n != 'r' && n != '"' && n != '\'' && n != '\\') {
          // Keep the backslash for regex escapes such as \d: "a\.b" means what RE2 means.
          t->text.insert(t->text.size() - 1, 1, '\\');
        }
        continue;
      }
      t->text.push_back(c);
    }
    err->column = start + 1;
    err->message = "unterminated string";
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool is_keyword(std::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "in" || w == "matches" ||
         w == "exists" || w == "starts_with" || w == "contains" || w == "true" || w == "false";
}

std::string kind_word(Literal::Kind k) {
  switch (k) {
    case Literal::Kind::kString: return "a string";
    case Literal::Kind::kNumber: return "a number";
    case Literal::Kind::kBool: return "a boolean";
    case Literal::Kind::kDuration: return "a duration";
    case Literal::Kind::kLevel: return "a level";
  }
  return "a value";
}

}  // namespace

class Parser {
 public:
  Parser(std::string_view text, Condition* out, CompileError* err)
      : lex_(text), out_(out), err_(err) {}

  bool run() {
    if (!advance()) return false;
    if (tok_.kind == Token::Kind::kEnd) return fail(tok_.column, "empty condition");
    int root = parse_or();
    if (root < 0) return false;
    if (tok_.kind != Token::Kind::kEnd) {
      return fail(tok_.column, "unexpected '" + tok_.text + "'; join tests with 'and' or 'or'");
    }
    out_->root_ = root;
    return true;
  }

 private:
  bool advance() { return lex_.next(&tok_, err_); }
  bool fail(std::size_t column, std::string msg) {
    err_->column = column;
    err_->message = std::move(msg);
    return false;
  }
  bool is(std::string_view word) const {
    return (tok_.kind == Token::Kind::kIdent || tok_.kind == Token::Kind::kSymbol) &&
           tok_.text == word;
  }
  int add(Node n) {
    out_->nodes_.push_back(std::move(n));
    return static_cast<int>(out_->nodes_.size() - 1);
  }
  int binary(Node::Kind k, int l, int r) {
    Node n;
    n.kind = k;
    n.left = l;
    n.right = r;
    return add(std::move(n));
  }

  int parse_or() {
    int l = parse_and();
    while (l >= 0 && (is("or") || is("||"))) {
      if (!advance()) return -1;
      int r = parse_and();
      if (r < 0) return -1;
      l = binary(Node::Kind::kOr, l, r);
    }
    return l;
  }

  int parse_and() {
    int l = parse_not();
    while (l >= 0 && (is("and") || is("&&"))) {
      if (!advance()) return -1;
      int r = parse_not();
      if (r < 0) return -1;
      l = binary(Node::Kind::kAnd, l, r);
    }
    return l;
  }

  int parse_not() {
    if (is("not") || is("!")) {
      if (++depth_ > kMaxDepth) {
        fail(tok_.column, "nested too deeply");
        return -1;
      }
      if (!advance()) return -1;
      int c = parse_not();
      --depth_;
      if (c < 0) return -1;
      return binary(Node::Kind::kNot, c, -1);
    }
    return parse_primary();
  }

  int parse_primary() {
    if (is("(")) {
      const std::size_t open = tok_.column;
      if (++depth_ > kMaxDepth) {
        fail(tok_.column, "nested too deeply");
        return -1;
      }
      if (!advance()) return -1;
      int e = parse_or();
      --depth_;
      if (e < 0) return -1;
      if (!is(")")) {
        fail(tok_.column, "expected ')' to close the '(' at column " + std::to_string(open));
        return -1;
      }
      if (!advance()) return -1;
      return e;
    }
    return parse_test();
  }

  bool parse_operand(Operand* op) {
    if (tok_.kind != Token::Kind::kIdent || is_keyword(tok_.text)) {
      return fail(tok_.column, tok_.kind == Token::Kind::kEnd
                                   ? "expected a test at the end"
                                   : "expected a field, label(\"...\"), field(\"...\"), "
                                     "message, stream or input; got '" + tok_.text + "'");
    }
    const std::string word = tok_.text;
    const std::size_t col = tok_.column;
    if (!advance()) return false;
    if ((word == "label" || word == "field") && is("(")) {
      if (!advance()) return false;
      if (tok_.kind != Token::Kind::kString) {
        return fail(tok_.column, word + "(...) takes a quoted name");
      }
      op->kind = word == "label" ? Operand::Kind::kLabel : Operand::Kind::kField;
      op->name = tok_.text;
      if (!advance()) return false;
      if (!is(")")) return fail(tok_.column, "expected ')' after the name in " + word + "(...)");
      return advance();
    }
    if (word == "message") {
      op->kind = Operand::Kind::kMessage;
    } else if (word == "stream") {
      op->kind = Operand::Kind::kStream;
    } else if (word == "input") {
      op->kind = Operand::Kind::kInput;
    } else {
      if (word.back() == '.' || word.find("..") != std::string::npos) {
        return fail(col, "'" + word + "' is not a field path");
      }
      op->kind = Operand::Kind::kField;
    }
    op->name = word;
    return true;
  }

  bool parse_literal(Literal* lit) {
    lit->text = tok_.text;
    switch (tok_.kind) {
      case Token::Kind::kString:
        lit->kind = Literal::Kind::kString;
        return advance();
      case Token::Kind::kNumber: {
        double v = 0;
        auto r = std::from_chars(tok_.text.data(), tok_.text.data() + tok_.text.size(), v);
        if (r.ec == std::errc() && r.ptr == tok_.text.data() + tok_.text.size() &&
            std::isfinite(v)) {
          lit->kind = Literal::Kind::kNumber;
          lit->number = v;
          return advance();
        }
        if (auto d = parse_duration_seconds(tok_.text)) {
          lit->kind = Literal::Kind::kDuration;
          lit->number = *d;
          return advance();
        }
        return fail(tok_.column, "'" + tok_.text +
                                     "' is neither a number nor a duration (250ms, 1.5s, 2m, 1h)");
      }
      case Token::Kind::kIdent:
        if (tok_.text == "true" || tok_.text == "false") {
          lit->kind = Literal::Kind::kBool;
          lit->boolean = tok_.text == "true";
          return advance();
        }
        if (auto rank = level_rank(tok_.text)) {
          lit->kind = Literal::Kind::kLevel;
          lit->level = static_cast<int>(*rank);
          return advance();
        }
        return fail(tok_.column, "unknown value '" + tok_.text + "': quote strings (\"" +
                                     tok_.text + "\"); unquoted words are levels (trace, debug, "
                                     "info, notice, warn, error, fatal, ...)");
      default:
        return fail(tok_.column, tok_.kind == Token::Kind::kEnd
                                     ? "expected a value at the end"
                                     : "expected a value, got '" + tok_.text + "'");
    }
  }

  // Type rules that depend only on the operand and literal, checked once here.
  bool check(const Operand& op, const Literal& lit, CmpOp cmp, std::size_t col) {
    const bool ordering = cmp != CmpOp::kEq && cmp != CmpOp::kNe;
    if (lit.kind == Literal::Kind::kBool && ordering) {
      return fail(col, "booleans compare only with == and !=");
    }
    if (op.kind == Operand::Kind::kStream) {
      if (lit.kind != Literal::Kind::kString || (lit.text != "stdout" && lit.text != "stderr")) {
        return fail(col, "stream is \"stdout\" or \"stderr\"");
      }
      if (ordering) return fail(col, "stream compares only with == and !=");
    } else if (op.kind != Operand::Kind::kField && lit.kind != Literal::Kind::kString) {
      return fail(col, op.name + " is a string; compare it with a quoted string, not " +
                           kind_word(lit.kind));
    }
    return true;
  }

  int parse_test() {
    const std::size_t test_col = tok_.column;
    Node n;
    if (!parse_operand(&n.operand)) return -1;
    bool negate = false;
    if (is("not")) {
      negate = true;
      if (!advance()) return -1;
    }
    const std::size_t op_col = tok_.column;
    if (is("exists")) {
      n.kind = Node::Kind::kExists;
      if (!advance()) return -1;
    } else if (is("matches") || is("starts_with") || is("contains")) {
      const std::string word = tok_.text;
      n.kind = word == "matches" ? Node::Kind::kMatches
               : word == "starts_with" ? Node::Kind::kStartsWith
                                       : Node::Kind::kContains;
      if (!advance()) return -1;
      if (tok_.kind != Token::Kind::kString) {
        fail(tok_.column, "'" + word + "' takes a quoted string");
        return -1;
      }
      const std::size_t lit_col = tok_.column;
      Literal lit;
      if (!parse_literal(&lit)) return -1;
      if (n.kind == Node::Kind::kMatches) {
        RE2::Options o;
        o.set_log_errors(false);
        auto re = std::make_shared<const RE2>(lit.text, o);
        if (!re->ok()) {
          fail(lit_col, "invalid regular expression (RE2): " + re->error());
          return -1;
        }
        n.regex = std::move(re);
      }
      if (n.operand.kind == Operand::Kind::kStream && n.kind != Node::Kind::kMatches) {
        fail(op_col, "stream is \"stdout\" or \"stderr\": compare it with ==");
        return -1;
      }
      n.literals.push_back(std::move(lit));
    } else if (is("in")) {
      n.kind = Node::Kind::kIn;
      if (!advance()) return -1;
      if (!is("[")) {
        fail(tok_.column, "'in' takes a list: in [\"a\", \"b\"]");
        return -1;
      }
      if (!advance()) return -1;
      while (true) {
        const std::size_t lit_col = tok_.column;
        Literal lit;
        if (!parse_literal(&lit)) return -1;
        if (!check(n.operand, lit, CmpOp::kEq, lit_col)) return -1;
        if (!n.literals.empty() && n.literals.front().kind != lit.kind) {
          fail(lit_col, "the list mixes " + kind_word(n.literals.front().kind) + " and " +
                            kind_word(lit.kind));
          return -1;
        }
        n.literals.push_back(std::move(lit));
        if (is(",")) {
          if (!advance()) return -1;
          continue;
        }
        if (is("]")) break;
        fail(tok_.column, "expected ',' or ']' in the list");
        return -1;
      }
      if (!advance()) return -1;
    } else if (tok_.kind == Token::Kind::kSymbol &&
               (is("==") || is("!=") || is("<") || is("<=") || is(">") || is(">="))) {
      if (negate) {
        fail(op_col, "'not' goes before the test: not (a == b)");
        return -1;
      }
      n.kind = Node::Kind::kCompare;
      n.op = is("==")   ? CmpOp::kEq
             : is("!=") ? CmpOp::kNe
             : is("<")  ? CmpOp::kLt
             : is("<=") ? CmpOp::kLe
             : is(">")  ? CmpOp::kGt
                        : CmpOp::kGe;
      const std::string sym = tok_.text;
      if (!advance()) return -1;
      const std::size_t lit_col = tok_.column;
      Literal lit;
      if (tok_.kind == Token::Kind::kEnd) {
        fail(lit_col, "expected a value after '" + sym + "'");
        return -1;
      }
      if (!parse_literal(&lit)) return -1;
      if (!check(n.operand, lit, n.op, lit_col)) return -1;
      n.literals.push_back(std::move(lit));
    } else {
      fail(tok_.kind == Token::Kind::kEnd ? op_col : tok_.column,
           "expected an operator after '" + n.operand.name +
               "' (==, !=, <, <=, >, >=, matches, in, exists, starts_with, contains)");
      return -1;
    }
    (void)test_col;
    int idx = add(std::move(n));
    return negate ? binary(Node::Kind::kNot, idx, -1) : idx;
  }

  static constexpr int kMaxDepth = 64;   // bounds recursion on hostile input
  Lexer lex_;
  Token tok_;
  Condition* out_;
  CompileError* err_;
  int depth_ = 0;
};

std::shared_ptr<const Condition> Condition::compile(std::string_view text, CompileError* error) {
  // Bounds evaluation depth (and/or chains recurse) whatever the input.
  constexpr std::size_t kMaxLength = 4096;
  if (text.size() > kMaxLength) {
    error->column = kMaxLength + 1;
    error->message = "condition longer than 4096 characters";
    return nullptr;
  }
  auto c = std::make_shared<Condition>();
  c->text_ = std::string(text);
  Parser p(c->text_, c.get(), error);
  if (!p.run()) return nullptr;
  return c;
}

}  // namespace logship::condition
