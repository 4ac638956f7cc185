#include "daemon/commands/admin_address.h"

#include "daemon/registry/config_loader.h"
#include "config/substitution.h"
#include "daemon/commands/config_args.h"

namespace logship::commands {

bool resolve_admin_address(const std::string& given, const std::vector<std::string>& config_args,
                           std::string* address, std::string* error) {
  if (!given.empty()) {
    if (!config_args.empty()) {
      *error = "give either --address or a config, not both";
      return false;
    }
    *address = given;
    return true;
  }
  ConfigArgs ca = parse_config_args(config_args);
  if (!ca.ok) {
    *error = ca.error;
    return false;
  }
  config::OfflineSecretsScope no_secret_files;   // only http_listen is needed
  std::optional<config::Config> cfg = load_or_report(ca);
  if (!cfg) {
    *error = "cannot load the config";
    return false;
  }
  std::string host;
  uint16_t port = 0;
  if (!config::parse_listen_address(cfg->service.http_listen, &host, &port) || port == 0) {
    *error = "the config has no fixed service.http_listen ('" + cfg->service.http_listen +
             "'); give --address host:port";
    return false;
  }
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  *address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             std::to_string(port);
  return true;
}

}  // namespace logship::commands
