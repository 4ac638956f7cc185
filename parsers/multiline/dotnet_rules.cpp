// .NET: the runtime's report of an unhandled exception, exception ToString() under a log
// statement, and the console logger's indented message blocks ("fail: Category[0]").
//   Unhandled exception. System.InvalidOperationException: order 42 has no items
//    ---> System.ArgumentNullException: Value cannot be null. (Parameter 'items')
//      at Shop.Orders.OrderService.Validate(Order order) in /src/OrderService.cs:line 57
//      --- End of inner exception stack trace ---
//      at Shop.Orders.OrderService.Place(Int32 id) in /src/OrderService.cs:line 31
#include "parsers/multiline/builtin_sets.h"
#include "parsers/multiline/line_checks.h"

namespace logship::parsers {
namespace {

using A = LineAction;

class DotnetRules final : public LineRules {
 public:
  LineAction classify(std::string_view l, bool open, uint8_t&) const override {
    std::string_view t = lines::rstrip_cr(l);
    if (t.empty()) return A::kStart;
    if (lines::json_line(t)) return A::kSingle;
    // Frames, " ---> inner" exceptions, "--- End of inner exception stack trace ---" and the
    // console logger's message lines are all indented.
    if (open && lines::is_ws(t[0]) && !lines::blank(t)) return A::kAppend;
    if (open && t.starts_with("--- End of stack trace from previous location")) return A::kAppend;
    if (t.starts_with("Unhandled exception. ") || t.starts_with("Unhandled Exception: ")) {
      return A::kTraceStart;
    }
    // "System.TimeoutException: ..." under a logger's statement; its frames confirm it.
    if (lines::exception_line(t, false)) return A::kMaybeTraceStart;
    return A::kStart;
  }
};

}  // namespace

const LineRules& dotnet_rules() {
  static const DotnetRules rules;
  return rules;
}

}  // namespace logship::parsers
