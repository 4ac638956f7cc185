#pragma once
// Time formats compiled once into a small program, then applied per event without allocation,
// locale or libc time functions (no std::regex, no strptime, no timegm).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/status.h"

namespace logship::parsers {

class TimeFormat {
 public:
  // "rfc3339" (alias iso8601), "epoch" (seconds, fraction allowed), "epoch_s", "epoch_ms",
  // "epoch_us", "epoch_ns", or a strptime-style pattern with at least one '%' directive
  // (%Y %y %m %d %e %j %H %I %M %S %f %p %z %Z %b %h %B %a %A %T %F %s %% and literals).
  // Invalid (saying why) for a bad format. `default_offset_s` applies when the text has no zone.
  Status compile(std::string_view format, int32_t default_offset_s);
  // Parses the whole text. `now_ns` supplies the year when the format has none (syslog).
  bool parse(std::string_view text, int64_t now_ns, int64_t* out_ns) const;
  // An integer field with an epoch format.
  bool from_int(int64_t v, int64_t* out_ns) const;
  bool from_double(double v, int64_t* out_ns) const;

 private:
  enum class Kind : uint8_t { kRfc3339, kEpoch, kPattern };
  enum class Op : uint8_t {
    kLiteral, kSpace, kYear4, kYear2, kMonth, kDay, kDaySpace, kYearDay, kHour24, kHour12,
    kMinute, kSecond, kFraction, kAmPm, kZone, kZoneName, kMonthName, kDayName, kEpochSeconds
  };
  struct Step {
    Op op;
    char literal = 0;
  };
  bool parse_rfc3339(std::string_view t, int64_t* out) const;
  bool parse_epoch(std::string_view t, int64_t* out) const;
  bool parse_pattern(std::string_view t, int64_t now_ns, int64_t* out) const;

  Kind kind_ = Kind::kRfc3339;
  int64_t epoch_unit_ns_ = 1000000000;   // ns per unit for epoch formats
  int32_t default_offset_s_ = 0;
  bool has_year_ = false;
  std::vector<Step> steps_;
};

// "UTC", "Z", "+02:00", "-0530" -> seconds east of UTC; false otherwise.
bool parse_fixed_offset(std::string_view s, int32_t* out);

}  // namespace logship::parsers
