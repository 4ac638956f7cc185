#include "daemon/core/host_identity.h"

#include <gtest/gtest.h>

#include <cstring>

namespace logship {
namespace {

const char* no_env(const char*) { return nullptr; }
const char* kubernetes_env(const char* n) { return std::strcmp(n, "NODE_NAME") == 0 ? "worker-2" : nullptr; }

TEST(HostIdentity, ConfiguredNameThenNodeNameThenHostname) {
  HostIdentity plain = resolve_host_identity("", "", no_env, "box");
  EXPECT_EQ(plain.name, "box");
  EXPECT_EQ(plain.id, "");
  EXPECT_EQ(plain.node_name, "");

  // In a DaemonSet pod the hostname is the pod's name; the node comes from NODE_NAME.
  HostIdentity pod = resolve_host_identity("", "", kubernetes_env, "logship-x7k2p");
  EXPECT_EQ(pod.name, "worker-2");
  EXPECT_EQ(pod.node_name, "worker-2");

  HostIdentity configured = resolve_host_identity("edge-1", "m-1", kubernetes_env, "logship-x7k2p");
  EXPECT_EQ(configured.name, "edge-1");
  EXPECT_EQ(configured.id, "m-1");
  EXPECT_EQ(configured.node_name, "worker-2");
}

TEST(HostIdentity, ProcessIdentityIsWhatTheDaemonSet) {
  set_process_host_identity(HostIdentity{"n1", "i1", ""});
  EXPECT_EQ(process_host_identity().name, "n1");
  EXPECT_EQ(process_host_identity().id, "i1");
}

}  // namespace
}  // namespace logship
