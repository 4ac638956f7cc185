#pragma once
#include <string>

namespace logship::config {

// The default config shipped in the binary (config/default.yaml).
const std::string& default_config_text();

}  // namespace logship::config
