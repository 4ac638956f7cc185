#pragma once
// Where the operator commands (`top`, `tap`) find a running daemon's admin endpoint: --address
// as given, or service.http_listen of the config (a wildcard listen becomes loopback).
#include <string>
#include <vector>

namespace logship::commands {

// `config_args` are the command's remaining arguments (-c FILE...). Returns false with *error
// when neither gives a fixed host:port.
bool resolve_admin_address(const std::string& given, const std::vector<std::string>& config_args,
                           std::string* address, std::string* error);

}  // namespace logship::commands
