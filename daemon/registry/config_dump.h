#pragma once
// The effective config as YAML: every `${...}` expanded, every option present (defaults filled
// in), secrets shown as "***". What `logship validate --print` shows, so an operator sees what
// the daemon runs with without a secret reaching a terminal, a ticket or a log.
#include <string>

#include "daemon/registry/config_loader.h"

namespace logship::config {

// `cfg` must come from a successful load of `text` (the load remembers the secrets to mask).
std::string effective_config_yaml(const std::string& text, const Config& cfg);

}  // namespace logship::config
