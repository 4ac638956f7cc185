#include "outputs/elasticsearch/proxy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "outputs/elasticsearch/http_client.h"

namespace logship::plugins::es {
namespace {

std::string env(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v != nullptr && *v != '\0') return v;
  if (const char* v = std::getenv(upper); v != nullptr && *v != '\0') return v;
  return "";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ProxySettings ProxySettings::from_environment(std::string option, std::string credentials) {
  ProxySettings s;
  s.option = std::move(option);
  s.credentials = std::move(credentials);
  s.http_proxy = env("http_proxy", "HTTP_PROXY");
  s.https_proxy = env("https_proxy", "HTTPS_PROXY");
  s.no_proxy = env("no_proxy", "NO_PROXY");
  return s;
}

Result<Proxy> parse_proxy_url(std::string_view url, bool allow_credentials) {
  Proxy p;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return Status::invalid("proxy: only http:// proxies are supported (https nodes are tunnelled "
                           "through them with CONNECT)");
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    if (!allow_credentials) {
      return Status::invalid("proxy: the URL must not hold credentials; use proxy_credentials_file");
    }
    p.authorization = "Basic " + base64(authority.substr(0, at));
    authority.remove_prefix(at + 1);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::invalid("proxy: unterminated IPv6 address");
    }
    p.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    std::size_t colon = authority.rfind(':');
    p.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (p.host.empty()) {
    return Status::invalid("proxy: no host name");
  }
  if (port.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::invalid("proxy: bad port");
  }
  p.port = port.empty() ? "80" : std::string(port);
  std::string bracketed = p.host.find(':') != std::string::npos ? "[" + p.host + "]" : p.host;
  p.display = "http://" + bracketed + ":" + p.port;
  return p;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::string_view port) {
  const std::string h = lower(host);
  while (!no_proxy.empty()) {
    std::size_t comma = no_proxy.find(',');
    std::string_view entry = trim(no_proxy.substr(0, comma));
    no_proxy = comma == std::string_view::npos ? std::string_view() : no_proxy.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    std::string_view entry_port;
    if (entry.front() == '[') {   // [v6]:port
      std::size_t close = entry.find(']');
      if (close == std::string_view::npos) continue;
      if (close + 1 < entry.size() && entry[close + 1] == ':') entry_port = entry.substr(close + 2);
      entry = entry.substr(1, close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      entry_port = entry.substr(entry.find(':') + 1);
      entry = entry.substr(0, entry.find(':'));
    }
    if (!entry_port.empty() && entry_port != port) continue;
    while (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    const std::string e = lower(entry);
    if (h == e) return true;
    if (h.size() > e.size() && h.ends_with(e) && h[h.size() - e.size() - 1] == '.') return true;
  }
  return false;
}

Result<std::shared_ptr<const Proxy>> proxy_for(bool tls, std::string_view host,
                                               std::string_view port, const ProxySettings& s) {
  if (s.option == "none") return std::shared_ptr<const Proxy>();
  const bool from_env = s.option.empty();
  const std::string& url = from_env ? (tls ? s.https_proxy : s.http_proxy) : s.option;
  if (url.empty()) return std::shared_ptr<const Proxy>();
  if (no_proxy_matches(s.no_proxy, host, port)) return std::shared_ptr<const Proxy>();
  Result<Proxy> parsed = parse_proxy_url(url, from_env);
  if (!parsed.is_ok()) {
    if (from_env) return parsed.status().with_context(tls ? "HTTPS_PROXY" : "HTTP_PROXY");
    return parsed.status();
  }
  auto p = std::make_shared<Proxy>(std::move(parsed).value());
  if (!s.credentials.empty()) p->authorization = "Basic " + base64(s.credentials);
  return std::shared_ptr<const Proxy>(std::move(p));
}

}  // namespace logship::plugins::es
