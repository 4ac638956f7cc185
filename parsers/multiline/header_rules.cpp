// `rules: header`: a new record starts with a time stamp or level header (log_header.h lists the
// formats); every other line continues the open record. What users otherwise write by hand as
// a "starts with a timestamp" pattern, without regex.
#include "parsers/multiline/builtin_sets.h"
#include "parsers/multiline/line_checks.h"
#include "parsers/multiline/log_header.h"

namespace logship::parsers {
namespace {

using A = LineAction;

class HeaderRules final : public LineRules {
 public:
  LineAction classify(std::string_view l, bool open, uint8_t&) const override {
    std::string_view t = lines::rstrip_cr(l);
    if (lines::json_line(t)) return A::kSingle;
    if (log_header(t)) return A::kStart;
    // Lines before any header (or after a JSON line) have nothing to continue: they pass alone.
    return open ? A::kAppend : A::kSingle;
  }
};

}  // namespace

const LineRules& header_rules() {
  static const HeaderRules rules;
  return rules;
}

}  // namespace logship::parsers
