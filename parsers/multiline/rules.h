#pragma once
// Line classifiers for multiline reassembly. A rule set looks at one line at a time, with a byte
// of per-stream state it owns, and says what the line does to the stream's open group. Built-in
// sets use prefix and character checks only (no regex), so the common case costs a few
// comparisons per line; custom sets use RE2.
#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/status.h"

namespace logship::parsers {

enum class LineAction : uint8_t {
  kAppend,            // continues the open group (and confirms any tentative lines)
  kAppendTentative,   // continues it only if a later kAppend follows (blank lines between
                      // chained Python exceptions or goroutines); else it is emitted on its own
  kStart,             // closes the open group and opens a new one with this line
  kSingle,            // closes the open group and passes through alone (never held)
  kTraceStart,        // starts a trace: joins the open group if that is a lone log statement
                      // of this rule set (statement() says so), else acts as kStart
  kMaybeTraceStart,   // as kTraceStart, but joins only tentatively: a following kAppend must
                      // confirm it (an exception line needs its frames)
};

class LineRules {
 public:
  virtual ~LineRules() = default;
  // `open`: the stream has an open group. `state` starts at 0 and is reset to 0 when a group is
  // emitted by a flush. Returning kAppend* with no open group is treated as kStart.
  virtual LineAction classify(std::string_view line, bool open, uint8_t& state) const = 0;
  // Is `line` (an open group's only line) a log statement that a trace
  // starting on the next line belongs to? Asked only when a trace starts, so it may cost more
  // than classify(). Default: the line begins with a common time stamp or level header.
  virtual bool statement(std::string_view line) const;
};

// java, python, go, nodejs, ruby, dotnet, php, header; null if unknown.
const LineRules* builtin_rules(std::string_view name);
std::vector<std::string_view> builtin_rule_names();

// start / continue patterns (RE2, unanchored: use ^), `negate` flips `continue`.
//  - with only `start`: lines not matching it continue the open group;
//  - with only `continue`: matching lines continue, any other line starts a group;
//  - with both: matching `continue` continues, matching `start` starts, other lines pass alone.
class CustomRules final : public LineRules {
 public:
  // Invalid (saying why) when the patterns cannot be used.
  Status compile(const std::string& start, const std::string& cont, bool negate);
  LineAction classify(std::string_view line, bool open, uint8_t& state) const override;

 private:
  std::unique_ptr<RE2> start_;
  std::unique_ptr<RE2> cont_;
  bool negate_ = false;
};

}  // namespace logship::parsers
