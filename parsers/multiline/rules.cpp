#include "parsers/multiline/rules.h"

#include "parsers/multiline/builtin_sets.h"
#include "parsers/multiline/line_checks.h"
#include "parsers/multiline/log_header.h"

namespace logship::parsers {
namespace {

using A = LineAction;

using lines::blank;
using lines::exception_line;
using lines::indent;
using lines::is_digit;
using lines::is_ws;
using lines::json_line;
using lines::rstrip_cr;

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
// The exception line ("java.lang.IllegalStateException: ...") starts a trace, which joins the
// log statement Logback, Log4j2 or Spring Boot printed right above it.

// JUL's SimpleFormatter writes a record on two lines: "May 01, 2024 10:00:05 AM cls method"
// then "SEVERE: message". The second line belongs to the first.
bool jul_level_line(std::string_view r) {
  for (std::string_view p : {"SEVERE: ", "WARNING: ", "INFO: ", "CONFIG: ", "FINE: ", "FINER: ",
                             "FINEST: "}) {
    if (r.starts_with(p)) return true;
  }
  return false;
}

bool jul_severe(std::string_view r) {
  return r.starts_with("SEVERE: ") || r.starts_with("WARNING: ");
}

bool jul_header(std::string_view r) {
  return r.size() > 12 && r[3] == ' ' && r[6] == ',' && log_header(r);
}

class JavaRules final : public LineRules {
  enum : uint8_t { kNone, kJulHeader, kJulSevere };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    const bool after_jul = open && s == kJulHeader;
    const bool after_jul_severe = open && s == kJulSevere;
    s = kNone;
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
        case 'E':
          if (r.starts_with("Exception in thread \"")) return A::kTraceStart;
          break;
        default: break;
      }
      if (after_jul && jul_level_line(r)) {
        if (jul_severe(r)) s = kJulSevere;
        return A::kAppend;
      }
      // A JUL record is two lines, so its trace is joined here rather than as a statement's.
      // Elsewhere the exception line joins a statement only once a frame confirms it: a class
      // name and a colon alone are too little to merge on.
      if (exception_line(r, false)) return after_jul_severe ? A::kAppend : A::kMaybeTraceStart;
      if (jul_header(r)) s = kJulHeader;
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
      return A::kTraceStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }

  // Django's request logger writes "Internal Server Error: /path/" with no header.
  bool statement(std::string_view l) const override {
    return LineRules::statement(l) || l.starts_with("Internal Server Error: ");
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

// "main.placeOrder", "github.com/acme/shop/orders.(*Service).Place": a function line of an
// error stack printed with %+v (github.com/pkg/errors and alike), followed by "\tfile.go:N".
bool go_function_line(std::string_view l) {
  l = rstrip_cr(l);
  if (l.empty() || !lines::is_alpha(l[0]) || l.back() == ')' || l.back() == ':') return false;
  bool dot = false;
  for (char c : l) {
    if (is_ws(c) || c == ':' || c == '=' || c == '"') return false;
    dot |= c == '.';
  }
  return dot;
}

class GoRules final : public LineRules {
  enum : uint8_t { kNone, kPanic, kStacks, kErrorStack };

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
      case kErrorStack:
        if (!l.empty() && (l[0] == '\t' || go_function_line(l))) return A::kAppend;
        break;
      default: break;
    }
    if (l.starts_with("panic: ") || l.starts_with("fatal error: ") || l.starts_with("SIGQUIT: ")) {
      s = kPanic;
      return A::kTraceStart;
    }
    if (l.find("http: panic serving ") != std::string_view::npos) {   // a log line that heads one
      s = kPanic;
      return A::kStart;
    }
    if (goroutine_header(l)) {
      s = kStacks;
      return A::kTraceStart;
    }
    if (go_function_line(l)) {   // confirmed by the "\tfile.go:N" line under it
      s = kErrorStack;
      return A::kMaybeTraceStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }

  // The standard log package has no levels: any "2024/05/01 10:00:05 ..." line may head a panic
  // or a %+v stack (slog's "level=ERROR" lines are headers too).
  bool statement(std::string_view l) const override { return log_header(rstrip_cr(l)); }
};

// ---- Node.js: error stacks, their property blocks, uncaught-exception source excerpts ----------
// "    at f (/app/x.js:1:2)", "    at /app/x.js:27:31", "    at new Foo (<anonymous>)": the
// frame ends with ')' (or ") {") or a line:column; "  at most 3 retries" is not one.
bool node_at(std::string_view l) {
  l = rstrip_cr(l);
  std::size_t i = indent(l);
  if (i == 0 || !l.substr(i).starts_with("at ") || l.empty()) return false;
  return l.back() == ')' || l.ends_with(") {") ||   // " {": the error's own properties follow
         (is_digit(l.back()) && l.find(':', i) != std::string_view::npos);
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

// pino-pretty: "[1714557605412] ERROR (1234 on web-1): request failed" (or a formatted time),
// then the record's objects (an `err` with its stack) indented under it.
bool pino_pretty_line(std::string_view l) {
  if (!l.starts_with("[")) return false;
  std::size_t e = l.find("] ");
  if (e == std::string_view::npos) return false;
  std::size_t w = e + 2, i = w;
  while (i < l.size() && lines::is_upper(l[i])) ++i;
  return i > w && l.substr(i).starts_with(" (") && level_word(l.substr(w, i - w));
}

class NodeRules final : public LineRules {
  enum : uint8_t { kNone, kStack, kProps, kSourceLine, kCaret, kAfterCaret, kPretty };

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
      case kPretty:
        if (!t.empty() && is_ws(t[0])) return A::kAppend;
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
    // "TypeError: msg" joins a statement once its first frame confirms it.
    if (exception_line(t) || t.starts_with("Uncaught ")) return A::kMaybeTraceStart;
    if (pino_pretty_line(t)) {
      s = kPretty;
      return A::kStart;
    }
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
      if (s == kTrace && ruby_frame(body)) return A::kAppend;
    }
    // "NoMethodError (undefined method `total' for nil):" opens a Rails block.
    if (body.ends_with("):") && body.find(" (") != std::string_view::npos &&
        body.find(' ') > 0 && body.find(' ') == body.find(" (")) {
      s = kRails;
      return A::kStart;
    }
    if (ruby_frame(body)) {
      s = kTrace;
      // "/app/x.rb:12:in `m': msg (Err)" heads an uncaught exception on its own; a bare frame
      // is a backtrace a logger wrote under its statement.
      return body.ends_with("'") ? A::kTraceStart : A::kStart;
    }
    s = kNone;
    return json_line(l) ? A::kSingle : A::kStart;
  }

  // Logger's "E, [...] ERROR -- : msg": only warnings and errors carry a backtrace.
  bool statement(std::string_view l) const override {
    return l.size() > 4 && (l[0] == 'E' || l[0] == 'F' || l[0] == 'W' || l[0] == 'A') &&
           l[1] == ',' && l[2] == ' ' && l[3] == '[';
  }
};

}  // namespace

bool LineRules::statement(std::string_view line) const { return log_statement(rstrip_cr(line)); }

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
  if (name == "dotnet") return &dotnet_rules();
  if (name == "php") return &php_rules();
  if (name == "header") return &header_rules();
  return nullptr;
}

std::vector<std::string_view> builtin_rule_names() {
  return {"java", "python", "go", "nodejs", "ruby", "dotnet", "php", "header"};
}

Status CustomRules::compile(const std::string& start, const std::string& cont, bool negate) {
  RE2::Options ro;
  ro.set_log_errors(false);
  ro.set_never_capture(true);
  if (start.empty() && cont.empty()) {
    return Status::invalid("custom rules need 'start' and/or 'continue'");
  }
  if (negate && cont.empty()) {
    return Status::invalid("'negate' flips 'continue', which is not given");
  }
  if (!start.empty()) {
    start_ = std::make_unique<RE2>(start, ro);
    if (!start_->ok()) return Status::invalid("'start' does not compile: " + start_->error());
  }
  if (!cont.empty()) {
    cont_ = std::make_unique<RE2>(cont, ro);
    if (!cont_->ok()) return Status::invalid("'continue' does not compile: " + cont_->error());
  }
  negate_ = negate;
  return Status::ok();
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
