#pragma once
// Severity ordering shared by conditions (`level >= warn`) and anything else that ranks levels.
// Spellings from common loggers map to one rank: WARN, warning, W; err, E; fatal, critical,
// crit; syslog numbers 0-7 (0 emerg ... 7 debug).
#include <optional>
#include <string_view>

namespace logship::condition {

enum class LevelRank : int {
  kTrace = 0,
  kDebug = 1,
  kInfo = 2,
  kNotice = 3,
  kWarn = 4,
  kError = 5,
  kCritical = 6,   // fatal, crit, panic
  kEmergency = 7,  // alert, emerg
};

// The rank of a level name (case-insensitive) or of a syslog severity number written as one
// digit 0-7; nullopt for anything else.
std::optional<LevelRank> level_rank(std::string_view text);
// The rank of a syslog severity number (0 emergency ... 7 debug); nullopt outside 0-7.
std::optional<LevelRank> syslog_level_rank(int64_t severity);

}  // namespace logship::condition
