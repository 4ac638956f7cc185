#include "daemon/commands/admin_address.h"

#include "daemon/registry/config_loader.h"
#include "config/substitution.h"
#include "daemon/commands/config_args.h"

namespace logship::commands {

Result<std::string> resolve_admin_address(const std::string& given,
                                          const std::vector<std::string>& config_args) {
  if (!given.empty()) {
    if (!config_args.empty()) {
      return Status::invalid("give either --address or a config, not both");
    }
    return given;
  }
  ConfigArgs ca = parse_config_args(config_args);
  if (!ca.ok) {
    return Status::invalid(ca.error);
  }
  config::OfflineSecretsScope no_secret_files;   // only http_listen is needed
  std::optional<config::Config> cfg = load_or_report(ca);
  if (!cfg) {
    return Status::invalid("cannot load the config");
  }
  std::string host;
  uint16_t port = 0;
  if (!config::parse_listen_address(cfg->service.http_listen, &host, &port) || port == 0) {
    return Status::invalid("the config has no fixed service.http_listen ('" +
                           cfg->service.http_listen + "'); give --address host:port");
  }
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

}  // namespace logship::commands
