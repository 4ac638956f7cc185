#include "parsers/multiline/rules.h"

namespace logship::parsers {
namespace {

using A = LineAction;

inline bool is_ws(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::size_t indent(std::string_view l) {
  std::size_t i = 0;
  while (i < l.size() && is_ws(l[i])) ++i;
  return i;
}

bool blank(std::string_view l) {
  for (char c : l) {
    if (!is_ws(c) && c != '\r') return false;
  }
  return true;
}

std::string_view rstrip_cr(std::string_view l) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

// JSON lines are complete records: never held, never merged.
bool json_line(std::string_view l) {
  std::size_t i = indent(l);
  return i < l.size() && l[i] == '{';
}

// "... 12 more" / "... 34 common frames omitted" (logback)
bool java_elided(std::string_view r) {
  if (!r.starts_with("... ")) return false;
  std::size_t i = 4;
  std::size_t d = i;
  while (i < r.size() && is_digit(r[i])) ++i;
  if (i == d) return false;
  r = rstrip_cr(r.substr(i));
  return r == " more" || r == " common frames omitted";
}

// ---- Java (and JVM languages): frames, Caused by, Suppressed, elided frames -----------------
// The exception line itself ("java.lang.IllegalStateException: ...") opens the group; the log
// line a framework wrote before it stays its own event, as in Fluent Bit and Filebeat.
class JavaRules final : public LineRules {
 public:
  LineAction classify(std::string_view l, bool open, uint8_t&) const override {
    if (!l.empty()) {
      if (json_line(l)) return A::kSingle;
      std::size_t i = indent(l);
      // Frames ("\tat ...", "\t... 5 more", "\tSuppressed: ...") and indented continuations of
      // exception messages ("  Detail: Key (id)=(42) already exists.") are all indented.
      if (i > 0 && i < l.size() && !blank(l)) return A::kAppend;
      std::string_view r = l;
      switch (r[0]) {
        case '.':
          if (java_elided(r)) return A::kAppend;
          break;
        case 'C':
          if (r.starts_with("Caused by: ")) return A::kAppend;
          break;
        case 'S':
          if (r.starts_with("Suppressed: ")) return A::kAppend;
          break;
        default: break;
      }
    }
    return A::kStart;
  }
};

// ---- Python tracebacks, including chained exceptions ----------------------------------------
class PythonRules final : public LineRules {
  enum : uint8_t { kNone, kFrames, kAfterException, kChain };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    l = rstrip_cr(l);
    const bool tb = l == "Traceback (most recent call last):";
    switch (open ? s : static_cast<uint8_t>(kNone)) {
      case kFrames:
        if (l.empty()) return A::kAppendTentative;
        if (is_ws(l[0])) return A::kAppend;
        if (tb) break;
        s = kAfterException;   // the exception line ends the frames
        return A::kAppend;
      case kAfterException:
        if (blank(l)) return A::kAppendTentative;
        if (l == "During handling of the above exception, another exception occurred:" ||
            l == "The above exception was the direct cause of the following exception:") {
          s = kChain;
          return A::kAppend;
        }
        break;
      case kChain:
        if (blank(l)) return A::kAppend;
        if (tb) {
          s = kFrames;
          return A::kAppend;
        }
        break;
      default: break;
    }
    if (tb) {
      s = kFrames;
      return A::kStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }
};

// ---- Go panics and goroutine dumps -------------------------------------------------------------
bool goroutine_header(std::string_view l) {   // "goroutine 34 [running]:"
  if (!l.starts_with("goroutine ")) return false;
  std::size_t i = 10, d = i;
  while (i < l.size() && is_digit(l[i])) ++i;
  return i > d && l.substr(i).starts_with(" [");
}

bool go_frame(std::string_view l) {   // "net/http.(*conn).serve.func1()", "panic({0x6a, 0xc0})"
  l = rstrip_cr(l);
  if (l.empty() || l.back() != ')' || is_ws(l[0])) return false;
  std::size_t paren = l.find('(');
  if (paren == std::string_view::npos || paren == 0) return false;
  return l.substr(0, paren).find(' ') == std::string_view::npos;
}

class GoRules final : public LineRules {
  enum : uint8_t { kNone, kPanic, kStacks };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    switch (open ? s : static_cast<uint8_t>(kNone)) {
      case kPanic:
        if (blank(l)) return A::kAppendTentative;
        if (is_ws(l[0]) || l.starts_with("[signal ") || l.starts_with("PC=")) return A::kAppend;
        if (goroutine_header(l)) {
          s = kStacks;
          return A::kAppend;
        }
        break;
      case kStacks:
        if (blank(l)) return A::kAppendTentative;
        if (l[0] == '\t' || goroutine_header(l) || l.starts_with("created by ") ||
            l.starts_with("exit status ") || l.starts_with("...additional frames elided...") ||
            go_frame(l)) {
          return A::kAppend;
        }
        break;
      default: break;
    }
    if (l.starts_with("panic: ") || l.starts_with("fatal error: ") ||
        l.starts_with("SIGQUIT: ") || l.find("http: panic serving ") != std::string_view::npos) {
      s = kPanic;
      return A::kStart;
    }
    if (goroutine_header(l)) {
      s = kStacks;
      return A::kStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }
};

// ---- Node.js: error stacks, their property blocks, uncaught-exception source excerpts ----------
bool node_at(std::string_view l) {
  std::size_t i = indent(l);
  return i > 0 && l.substr(i).starts_with("at ");
}

// "/app/server.js:12" or "file:///app/x.mjs:3": how node starts the
// report of an uncaught exception (then the source line, a caret line, a blank, the stack).
bool node_location(std::string_view l) {
  l = rstrip_cr(l);
  if (!(l.starts_with("/") || l.starts_with("file://"))) return false;
  std::size_t i = l.size();
  while (i > 0 && is_digit(l[i - 1])) --i;
  if (i == l.size() || i == 0 || l[i - 1] != ':' || l.find(' ') != std::string_view::npos) {
    return false;
  }
  std::string_view path = l.substr(0, i - 1);
  for (std::string_view ext : {".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"}) {
    if (path.ends_with(ext)) return true;
  }
  return false;
}

class NodeRules final : public LineRules {
  enum : uint8_t { kNone, kStack, kProps, kSourceLine, kCaret, kAfterCaret };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    std::string_view t = rstrip_cr(l);
    switch (open ? s : static_cast<uint8_t>(kNone)) {
      case kProps:   // "    at x (y) {" ... "  code: 'E'," ... "}"
        if (t == "}") {
          s = kStack;
          return A::kAppend;
        }
        if (!t.empty() && is_ws(t[0])) return A::kAppend;
        break;
      case kSourceLine:
        s = kCaret;
        return A::kAppend;
      case kCaret:
        if (!t.empty() && t.find_first_not_of(" \t^") == std::string_view::npos) {
          s = kAfterCaret;
          return A::kAppend;
        }
        break;
      case kAfterCaret:
        if (t.empty()) return A::kAppend;
        s = kStack;   // "Error: boom", then its frames
        return A::kAppend;
      case kStack:
        if (t.empty()) return A::kAppendTentative;
        if (t.starts_with("Node.js v")) return A::kAppend;
        break;
      default: break;
    }
    if (node_at(t)) {
      s = t.ends_with(" {") ? kProps : kStack;
      return A::kAppend;
    }
    if (node_location(t)) {
      s = kSourceLine;
      return A::kStart;
    }
    s = kNone;
    return json_line(t) ? A::kSingle : A::kStart;
  }
};

// ---- Ruby backtraces and Rails exception blocks -------------------------------------------------
// Strips Logger's "F, [2024-05-01T10:00:00.123456 #1] FATAL -- : " and tagged-logging "[id] ".
std::string_view ruby_payload(std::string_view l) {
  if (l.size() > 4 && l[1] == ',' && l[2] == ' ' && l[3] == '[') {
    std::size_t m = l.find(" -- ");
    if (m != std::string_view::npos) {
      std::size_t c = l.find(": ", m + 4);
      if (c != std::string_view::npos) l.remove_prefix(c + 2);
      else if (l.ends_with(":")) l = {};
    }
  }
  while (l.starts_with("[")) {
    std::size_t e = l.find("] ");
    if (e == std::string_view::npos) {
      if (l.back() == ']') l = {};
      break;
    }
    l.remove_prefix(e + 2);
  }
  return l;
}

// "app/models/order.rb:12:in `place'" (also with leading whitespace or "from ")
bool ruby_frame(std::string_view r) {
  std::size_t p = r.find(".rb:");
  if (p == std::string_view::npos) return false;
  std::size_t i = p + 4, d = i;
  while (i < r.size() && is_digit(r[i])) ++i;
  return i > d && r.substr(i).starts_with(":in ");
}

class RubyRules final : public LineRules {
  enum : uint8_t { kNone, kTrace, kRails };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    std::string_view r = rstrip_cr(ruby_payload(l));
    std::size_t i = indent(r);
    std::string_view body = r.substr(i);
    if (open) {
      if (i > 0 && body.starts_with("from ")) return A::kAppend;
      if (body.starts_with("Did you mean?")) return A::kAppend;
      if (s == kRails && (body.empty() || ruby_frame(body))) return A::kAppend;
      if (s == kTrace && i > 0 && ruby_frame(body)) return A::kAppend;
    }
    // "NoMethodError (undefined method `total' for nil):" opens a Rails block.
    if (body.ends_with("):") && body.find(" (") != std::string_view::npos &&
        body.find(' ') > 0 && body.find(' ') == body.find(" (")) {
      s = kRails;
      return A::kStart;
    }
    if (ruby_frame(body)) {   // "/app/x.rb:12:in `m': msg (Err)" heads an uncaught exception
      s = kTrace;
      return A::kStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }
};

}  // namespace

const LineRules* builtin_rules(std::string_view name) {
  static const JavaRules java;
  static const PythonRules python;
  static const GoRules go;
  static const NodeRules node;
  static const RubyRules ruby;
  if (name == "java") return &java;
  if (name == "python") return &python;
  if (name == "go") return &go;
  if (name == "nodejs" || name == "node") return &node;
  if (name == "ruby") return &ruby;
  return nullptr;
}

std::vector<std::string_view> builtin_rule_names() {
  return {"java", "python", "go", "nodejs", "ruby"};
}

std::string CustomRules::compile(const std::string& start, const std::string& cont, bool negate) {
  RE2::Options ro;
  ro.set_log_errors(false);
  ro.set_never_capture(true);
  if (start.empty() && cont.empty()) return "custom rules need 'start' and/or 'continue'";
  if (negate && cont.empty()) return "'negate' flips 'continue', which is not given";
  if (!start.empty()) {
    start_ = std::make_unique<RE2>(start, ro);
    if (!start_->ok()) return "'start' does not compile: " + start_->error();
  }
  if (!cont.empty()) {
    cont_ = std::make_unique<RE2>(cont, ro);
    if (!cont_->ok()) return "'continue' does not compile: " + cont_->error();
  }
  negate_ = negate;
  return "";
}

LineAction CustomRules::classify(std::string_view l, bool open, uint8_t&) const {
  re2::StringPiece text(l.data(), l.size());
  if (cont_) {
    bool c = RE2::PartialMatch(text, *cont_) != negate_;
    if (c && open) return A::kAppend;
    if (!start_) return A::kStart;
    return RE2::PartialMatch(text, *start_) ? A::kStart : A::kSingle;
  }
  bool starts = RE2::PartialMatch(text, *start_);
  if (starts) return A::kStart;
  return open ? A::kAppend : A::kSingle;
}

}  // namespace logship::parsers
