#pragma once
// RFC 3339 timestamps, as Docker, the plugin protocol, syslog and CRI write them:
// 2024-05-01T10:00:00.123456789Z or ...+02:00, 0..9 fraction digits.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace logship {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

// Parses a timestamp at the start of `s`; *end is set just past it. More than 9 fraction digits
// are rejected unless `truncate_fraction` (then the extra digits are ignored). Times outside
// int64 nanoseconds (1677..2262; Go's zero time 0001-01-01) clamp to INT64_MIN / INT64_MAX.
bool parse_rfc3339_prefix(std::string_view s, std::size_t* end, int64_t* ns,
                          bool truncate_fraction = false);
// The whole of `s` must be one timestamp.
bool parse_rfc3339(std::string_view s, int64_t* ns, bool truncate_fraction = false);

}  // namespace logship
