#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/config_loader.h"

namespace logship::commands {

struct ConfigArgs {
  std::string path;         // empty: the embedded default config
  bool ok = true;
  std::string error;
};
// Reads `-c FILE` / `--config FILE` / `--config=FILE`.
ConfigArgs parse_config_args(const std::vector<std::string>& args);
// Loads the file or the embedded default; prints every error to stderr on failure.
std::optional<config::Config> load_or_report(const ConfigArgs& a);

}  // namespace logship::commands
