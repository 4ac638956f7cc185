#pragma once
// Names logrotate (and most rotating writers) give a file's older generations beside it:
// "<name>.1", "<name>.2" (rotate N), "<name>-20261204" (dateext), and compressed ones:
// "<name>.2.gz", "<name>-20261204.gz" (compress).
#include <optional>
#include <string_view>

namespace logship::file {

inline bool is_generation_of(std::string_view base, std::string_view name) {
  if (name.size() < base.size() + 2 || name.substr(0, base.size()) != base) return false;
  std::string_view suffix = name.substr(base.size());
  if (suffix[0] != '.' && suffix[0] != '-') return false;
  for (char c : suffix.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The active file's name a generation name belongs to ("app.log" of "app.log.1"), if any.
inline std::optional<std::string_view> generation_base(std::string_view name) {
  const std::size_t sep = name.find_last_of(".-");
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == name.size()) return std::nullopt;
  for (char c : name.substr(sep + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return name.substr(0, sep);
}

// The active file's name a compressed generation name belongs to ("app.log" of "app.log.1.gz",
// "app.log-20261204.gz"), if any.
inline std::optional<std::string_view> compressed_generation_base(std::string_view name) {
  constexpr std::string_view kGz = ".gz";
  if (name.size() <= kGz.size() || name.substr(name.size() - kGz.size()) != kGz) {
    return std::nullopt;
  }
  return generation_base(name.substr(0, name.size() - kGz.size()));
}

}  // namespace logship::file
