#pragma once
#include <optional>
#include <string>
#include <vector>

#include "daemon/registry/config_loader.h"

namespace logship::commands {

// Where a command looks for its config when no -c is given, after $LOGSHIP_CONFIG.
inline constexpr const char* kSystemConfigPath = "/etc/logship/logship.yaml";

struct ConfigArgs {
  std::string path;         // empty: the embedded default config
  std::string chosen_by;    // why this config: "-c", "LOGSHIP_CONFIG", the system path, "default"
  bool ok = true;
  std::string error;
};
// Reads `-c FILE` / `--config FILE` / `--config=FILE`; without one, the config is
// $LOGSHIP_CONFIG, else `system_path` if it exists, else the embedded default (as the systemd
// unit, the image and a packaged install expect without being told).
ConfigArgs parse_config_args(const std::vector<std::string>& args,
                             const char* system_path = kSystemConfigPath);
// Loads the file or the embedded default; prints every error to stderr on failure.
std::optional<config::Config> load_or_report(const ConfigArgs& a);

}  // namespace logship::commands
