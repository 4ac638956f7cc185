#pragma once
// Which HTTP proxy a node is reached through: the `proxy:` option, else the environment as curl
// reads it (https_proxy/HTTPS_PROXY for https nodes, http_proxy/HTTP_PROXY for http ones), and
// NO_PROXY/no_proxy for the nodes that bypass it. An https node is reached through a CONNECT
// tunnel (TLS end to end, the proxy sees only the host name); an http node gets absolute-form
// requests. Proxy credentials never appear in `display` or any log.
#include <memory>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship::plugins::es {

struct Proxy {
  std::string host;
  std::string port;
  std::string display;         // http://host:port, without credentials
  std::string authorization;   // "Basic ..." for Proxy-Authorization, or empty; never logged
};

struct ProxySettings {
  std::string option;          // the `proxy:` option: "" = environment, "none", or a URL
  std::string credentials;     // "user:password" from proxy_credentials_file, or empty
  // The environment (read once by from_environment; tests set them directly).
  std::string http_proxy;
  std::string https_proxy;
  std::string no_proxy;
  static ProxySettings from_environment(std::string option, std::string credentials);
};

// "http://[user:pass@]host[:port][/]" -> Proxy (port 80 by default). `allow_credentials`: only
// the environment may carry them (the option refuses them: they would show in config dumps).
Result<Proxy> parse_proxy_url(std::string_view url, bool allow_credentials);

// The proxy for a node (nullptr: connect directly), or an error for a proxy URL that cannot be
// used.
Result<std::shared_ptr<const Proxy>> proxy_for(bool tls, std::string_view host,
                                               std::string_view port, const ProxySettings& s);

// NO_PROXY: comma-separated names (a name matches itself and its subdomains; a leading '.' is
// ignored), IP addresses, optional :port, or "*" for every host.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port);

}  // namespace logship::plugins::es
