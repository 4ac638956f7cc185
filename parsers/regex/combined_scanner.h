#pragma once
// A hand-written matcher for the built-in `combined` access-log pattern. RE2 needs a slow
// submatch engine for a pattern with a dozen groups; this scan does the same in one pass. It is
// conservative: it answers only for lines it is sure about (ASCII, no backslash escapes, no line
// breaks) and gives exactly RE2's captures then; for anything else the caller asks RE2.
#include <re2/re2.h>

#include <string_view>

namespace logship::parsers {

// Capture numbers of the combined pattern, as RE2 numbers its groups.
enum CombinedGroup {
  kCgClient = 1, kCgIdent, kCgUser, kCgTime, kCgMethod, kCgPath, kCgProtocol, kCgRequest,
  kCgStatus, kCgBytes, kCgReferer, kCgUserAgent, kCgCount
};

// True when `line` certainly matches; `sub` (kCgCount entries) then holds RE2's submatches
// (null data for groups that do not take part). False means "ask RE2", not "no match".
bool scan_combined(std::string_view line, re2::StringPiece* sub);

}  // namespace logship::parsers
