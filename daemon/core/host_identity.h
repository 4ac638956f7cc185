#pragma once
// Which machine the events come from: host.name (and optionally host.id) in the documents of
// the schema encoders, and the Kubernetes node name for pod logs. Resolved once when the daemon
// starts (or reloads), never per event.
#include <string>
#include <string_view>

namespace logship {

struct HostIdentity {
  std::string name;        // host.name
  std::string id;          // host.id; empty = not written
  std::string node_name;   // Kubernetes node (env NODE_NAME); empty outside Kubernetes
};

// `configured_name` wins when set; otherwise NODE_NAME (a DaemonSet passes the node's name, as
// the pod's own hostname is the pod name), then gethostname(). `env` reads a variable (getenv
// in the daemon, a fake in tests); `system_hostname` is gethostname()'s answer.
HostIdentity resolve_host_identity(std::string_view configured_name, std::string_view configured_id,
                                   const char* (*env)(const char*), std::string_view system_hostname);
// resolve_host_identity() with the process environment and gethostname().
HostIdentity resolve_host_identity(std::string_view configured_name, std::string_view configured_id);

// The identity of this process, set by the daemon before outputs start; outputs copy it in
// start(). Until set it is resolve_host_identity("", "").
void set_process_host_identity(HostIdentity h);
HostIdentity process_host_identity();

}  // namespace logship
