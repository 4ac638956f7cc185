#include "daemon/core/host_identity.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <optional>

namespace logship {

HostIdentity resolve_host_identity(std::string_view configured_name, std::string_view configured_id,
                                   const char* (*env)(const char*), std::string_view system_hostname) {
  HostIdentity h;
  const char* node = env("NODE_NAME");
  if (node != nullptr) h.node_name = node;
  if (!configured_name.empty()) {
    h.name = configured_name;
  } else if (!h.node_name.empty()) {
    h.name = h.node_name;
  } else {
    h.name = system_hostname;
  }
  h.id = configured_id;
  return h;
}

HostIdentity resolve_host_identity(std::string_view configured_name, std::string_view configured_id) {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) buf[0] = '\0';
  return resolve_host_identity(
      configured_name, configured_id, [](const char* n) -> const char* { return std::getenv(n); },
      buf);
}

namespace {
std::mutex g_mu;
std::optional<HostIdentity> g_identity;
}  // namespace

void set_process_host_identity(HostIdentity h) {
  std::lock_guard lock(g_mu);
  g_identity = std::move(h);
}

HostIdentity process_host_identity() {
  std::lock_guard lock(g_mu);
  if (!g_identity) g_identity = resolve_host_identity("", "");
  return *g_identity;
}

}  // namespace logship
