// PHP: the engine's report of an uncaught exception and the traces loggers print.
//   PHP Fatal error:  Uncaught RuntimeException: order 42 has no items in /app/src/Orders.php:42
//   Stack trace:
//   #0 /app/public/index.php(17): App\Orders->place(42)
//   #1 {main}
//     thrown in /app/src/Orders.php on line 42
#include "parsers/multiline/builtin_sets.h"
#include "parsers/multiline/line_checks.h"

namespace logship::parsers {
namespace {

using A = LineAction;

// "#0 ", "#12 "
bool php_frame(std::string_view t) {
  if (t.size() < 3 || t[0] != '#' || !lines::is_digit(t[1])) return false;
  std::size_t i = 1;
  while (i < t.size() && lines::is_digit(t[i])) ++i;
  return i < t.size() && t[i] == ' ';
}

bool uncaught_report(std::string_view t) {
  if (t.starts_with("PHP ")) t.remove_prefix(4);
  if (!t.starts_with("Fatal error: ")) return false;
  t.remove_prefix(13);
  while (t.starts_with(" ")) t.remove_prefix(1);
  return t.starts_with("Uncaught ");
}

// error_log() writes "[01-May-2024 10:00:06 UTC] PHP Fatal error:  ...".
std::string_view without_time(std::string_view t) {
  if (!t.starts_with("[")) return t;
  std::size_t e = t.find("] ");
  return e == std::string_view::npos ? t : t.substr(e + 2);
}

class PhpRules final : public LineRules {
  enum : uint8_t { kNone, kTrace };

 public:
  LineAction classify(std::string_view l, bool open, uint8_t& s) const override {
    std::string_view t = lines::rstrip_cr(l);
    if (open && s == kTrace) {
      if (t == "Stack trace:" || php_frame(t) || t.starts_with("Next ")) return A::kAppend;
      if (t == "\"}" || t == "\"} ") {   // Laravel closes its context JSON after the trace
        s = kNone;
        return A::kAppend;
      }
      if (t.starts_with("  thrown in ")) {
        s = kNone;   // the report ends here
        return A::kAppend;
      }
    }
    if (uncaught_report(without_time(t))) {   // the engine's report heads its own record
      s = kTrace;
      return A::kStart;
    }
    // A logger's statement, then "Stack trace:" (Exception::__toString), "[stacktrace]"
    // (Monolog, Laravel) or the frames themselves.
    if (t == "Stack trace:" || t == "[stacktrace]" || php_frame(t)) {
      s = kTrace;
      return A::kTraceStart;
    }
    s = kNone;
    return lines::json_line(t) ? A::kSingle : A::kStart;
  }
};

}  // namespace

const LineRules& php_rules() {
  static const PhpRules rules;
  return rules;
}

}  // namespace logship::parsers
