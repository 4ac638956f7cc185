#include "daemon/core/condition/log_level.h"

#include <cstdint>

namespace logship::condition {

namespace {

struct Spelling {
  std::string_view name;
  LevelRank rank;
};

// Lower-case spellings; single letters are the ones glog, zap's console encoder and
// Android's logcat print.
constexpr Spelling kSpellings[] = {
    {"trace", LevelRank::kTrace},       {"trc", LevelRank::kTrace},
    {"t", LevelRank::kTrace},           {"debug", LevelRank::kDebug},
    {"dbg", LevelRank::kDebug},         {"d", LevelRank::kDebug},
    {"info", LevelRank::kInfo},         {"inf", LevelRank::kInfo},
    {"information", LevelRank::kInfo},  {"informational", LevelRank::kInfo},
    {"i", LevelRank::kInfo},            {"notice", LevelRank::kNotice},
    {"n", LevelRank::kNotice},          {"warn", LevelRank::kWarn},
    {"warning", LevelRank::kWarn},      {"wrn", LevelRank::kWarn},
    {"w", LevelRank::kWarn},            {"error", LevelRank::kError},
    {"err", LevelRank::kError},         {"e", LevelRank::kError},
    {"fatal", LevelRank::kCritical},    {"critical", LevelRank::kCritical},
    {"crit", LevelRank::kCritical},     {"panic", LevelRank::kCritical},
    {"f", LevelRank::kCritical},        {"c", LevelRank::kCritical},
    {"alert", LevelRank::kEmergency},   {"emerg", LevelRank::kEmergency},
    {"emergency", LevelRank::kEmergency}, {"a", LevelRank::kEmergency},
};

bool equals_lower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<LevelRank> syslog_level_rank(int64_t severity) {
  constexpr LevelRank kBySeverity[] = {LevelRank::kEmergency, LevelRank::kEmergency,
                                       LevelRank::kCritical,  LevelRank::kError,
                                       LevelRank::kWarn,      LevelRank::kNotice,
                                       LevelRank::kInfo,      LevelRank::kDebug};
  if (severity < 0 || severity > 7) return std::nullopt;
  return kBySeverity[severity];
}

std::optional<LevelRank> level_rank(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') return syslog_level_rank(text[0] - '0');
  for (const Spelling& s : kSpellings) {
    if (equals_lower(text, s.name)) return s.rank;
  }
  return std::nullopt;
}

}  // namespace logship::condition
