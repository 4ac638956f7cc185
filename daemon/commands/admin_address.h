#pragma once
// Where the operator commands (`top`, `tap`) find a running daemon's admin endpoint: --address
// as given, or service.http_listen of the config (a wildcard listen becomes loopback).
#include <string>
#include <vector>

#include "daemon/core/status.h"

namespace logship::commands {

// `config_args` are the command's remaining arguments (-c FILE...). The host:port, or invalid
// when neither gives a fixed one.
Result<std::string> resolve_admin_address(const std::string& given,
                                          const std::vector<std::string>& config_args);

}  // namespace logship::commands
