#pragma once
// `rules: auto` without a label: which built-in rule set a stream's own lines show. Looks for
// lines only traces contain (frames, "Traceback (most recent call last):", "goroutine 7 [",
// "#0 ", ...) with a first-character dispatch and a few prefix checks, so a stream that never
// prints a trace pays little for being watched.
#include <string_view>

#include "parsers/multiline/rules.h"

namespace logship::parsers {

struct Detection {
  std::string_view name;              // "" when the line shows nothing
  const LineRules* rules = nullptr;
  // "java.lang.IllegalStateException: x", "TypeError: x": may start a trace of a set not known
  // yet; the processor joins it to a statement tentatively, the next line decides.
  bool maybe_trace_start = false;
};

Detection detect_rules(std::string_view line);

}  // namespace logship::parsers
