#include "inputs/docker/metadata.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace logship::docker {
namespace {

const char* kConfig = R"({
  "StreamConfig": {}, "State": {"Running": true, "Pid": 42},
  "ID": "0123abcd", "Created": "2024-05-01T10:00:00.1Z",
  "Name": "/shop-api-1",
  "Image": "sha256:feedbeef",
  "Config": {
    "Hostname": "0123abcd",
    "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2"],
    "Cmd": ["run"],
    "Image": "registry.local/shop/api:1.4",
    "Labels": {"com.docker.compose.project": "shop", "com.docker.compose.service": "api",
               "team": "pay\"ments", "logship.enable": "true"}
  },
  "LogPath": "/var/lib/docker/containers/0123abcd/0123abcd-json.log"
})";

TEST(ContainerConfig, ParsesNameImageHostnameLabels) {
  auto parsed = parse_container_config(kConfig);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  const ContainerMeta& m = parsed.value();
  EXPECT_EQ(m.id, "0123abcd");
  EXPECT_EQ(m.name, "shop-api-1");
  EXPECT_EQ(m.image, "registry.local/shop/api:1.4");
  EXPECT_EQ(m.hostname, "0123abcd");
  ASSERT_EQ(m.labels.size(), 4u);
  EXPECT_EQ(*m.label("team"), "pay\"ments");
  EXPECT_EQ(m.labels[0].first, "com.docker.compose.project");   // sorted
}

TEST(ContainerConfig, SourceCarriesConventionalTagsAndNeverEnv) {
  auto parsed = parse_container_config(kConfig);
  ASSERT_TRUE(parsed.is_ok());
  const ContainerMeta& m = parsed.value();
  auto s = make_source("docker", "docker:1:2", m);
  EXPECT_EQ(s->input, "docker");
  EXPECT_EQ(s->key, "docker:1:2");
  ASSERT_NE(s->find("container_id"), nullptr);
  EXPECT_EQ(s->find("container_id")->value, "0123abcd");
  EXPECT_EQ(s->find("container_name")->value, "shop-api-1");
  EXPECT_EQ(s->find("image")->value, "registry.local/shop/api:1.4");
  EXPECT_EQ(s->find("hostname")->value, "0123abcd");
  EXPECT_EQ(s->find("compose_project")->value, "shop");
  EXPECT_EQ(s->find("compose_service")->value, "api");
  EXPECT_EQ(s->find("namespace"), nullptr);
  EXPECT_EQ(*s->label("team"), "pay\"ments");
  for (const auto& t : s->tags) EXPECT_EQ(t.value.find("hunter2"), std::string::npos);
  for (const auto& [k, v] : s->labels) EXPECT_EQ(v.find("hunter2"), std::string::npos);
}

TEST(ContainerConfig, NullLabelsAndBadInput) {
  auto parsed = parse_container_config(R"({"Name":"/x","Config":{"Labels":null,"Image":"i"}})");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_TRUE(parsed.value().labels.empty());
  EXPECT_EQ(parsed.value().name, "x");
  EXPECT_FALSE(parse_container_config("").is_ok());
  EXPECT_FALSE(parse_container_config("{\"Name\":\"/x\"}").is_ok());   // no Config
  EXPECT_FALSE(parse_container_config("{\"Name\":\"/x\",\"Config\":{\"Labels\":{\"a\":").is_ok());
  EXPECT_FALSE(parse_container_config("[1]").is_ok());
}

TEST(CriPodDir, SplitsNamespacePodUid) {
  ContainerMeta m;
  ASSERT_TRUE(parse_cri_pod_dir("kube-system_coredns-5d78c9869d-abcde_1f2e3d4c-aaaa-bbbb", "coredns", &m));
  ASSERT_NE(m.pod, nullptr);
  EXPECT_EQ(m.pod->namespace_name, "kube-system");
  EXPECT_EQ(m.pod->pod, "coredns-5d78c9869d-abcde");
  EXPECT_EQ(m.pod->pod_uid, "1f2e3d4c-aaaa-bbbb");
  EXPECT_EQ(m.name, "coredns");
  auto s = make_source("k8s", "cri:1:2", m);
  EXPECT_EQ(s->find("namespace")->value, "kube-system");
  EXPECT_EQ(s->find("pod")->value, "coredns-5d78c9869d-abcde");
  EXPECT_EQ(s->find("pod_uid")->value, "1f2e3d4c-aaaa-bbbb");
  EXPECT_EQ(s->find("container_name")->value, "coredns");
  EXPECT_FALSE(parse_cri_pod_dir("a_b", "c", &m));
  EXPECT_FALSE(parse_cri_pod_dir("a_b_c_d", "c", &m));
  EXPECT_FALSE(parse_cri_pod_dir("_b_c", "c", &m));
  EXPECT_FALSE(parse_cri_pod_dir("a_b_c", "", &m));
}

ContainerMeta meta(std::string name, std::string image,
                   std::vector<std::pair<std::string, std::string>> labels = {}) {
  ContainerMeta m;
  m.name = std::move(name);
  m.image = std::move(image);
  m.labels = std::move(labels);
  return m;
}

TEST(ContainerFilter, IncludeExcludeOptOut) {
  ContainerFilter none;
  EXPECT_EQ(none.reject_reason(meta("a", "nginx:1")), "");
  EXPECT_NE(none.reject_reason(meta("a", "nginx:1", {{"logship.enable", "false"}})), "");
  EXPECT_NE(none.reject_reason(meta("a", "nginx:1", {{"logship.enable", "FALSE"}})), "");
  EXPECT_EQ(none.reject_reason(meta("a", "nginx:1", {{"logship.enable", "true"}})), "");

  ContainerFilter f;
  f.include_names = {"shop-*", "billing"};
  f.exclude_names = {"*-debug"};
  EXPECT_EQ(f.reject_reason(meta("shop-api-1", "x")), "");
  EXPECT_EQ(f.reject_reason(meta("billing", "x")), "");
  EXPECT_NE(f.reject_reason(meta("billing-2", "x")), "");
  EXPECT_NE(f.reject_reason(meta("shop-api-debug", "x")), "");

  ContainerFilter img;
  img.exclude_images = {"*/pause:*", "busybox*"};
  EXPECT_NE(img.reject_reason(meta("a", "k8s.gcr.io/pause:3.9")), "");
  EXPECT_NE(img.reject_reason(meta("a", "busybox")), "");
  EXPECT_EQ(img.reject_reason(meta("a", "nginx:1.25")), "");
  img.include_images = {"nginx:*"};
  EXPECT_NE(img.reject_reason(meta("a", "redis:7")), "");

  ContainerFilter lab;
  lab.include_labels = {"com.docker.compose.project=shop", "tier"};
  lab.exclude_labels = {"team=secret*"};
  EXPECT_EQ(lab.reject_reason(meta("a", "i", {{"com.docker.compose.project", "shop"}})), "");
  EXPECT_EQ(lab.reject_reason(meta("a", "i", {{"tier", "anything"}})), "");
  EXPECT_NE(lab.reject_reason(meta("a", "i", {{"com.docker.compose.project", "other"}})), "");
  EXPECT_NE(lab.reject_reason(meta("a", "i", {{"tier", "x"}, {"team", "secret-ops"}})), "");

  ContainerFilter custom;
  custom.opt_out_label = "";
  EXPECT_EQ(custom.reject_reason(meta("a", "i", {{"logship.enable", "false"}})), "");
}

using Labels = std::vector<std::pair<std::string, std::string>>;

TEST(LabelLimits, KeepsLabelsWithinCountAndBytesComposeLabelsFirst) {
  Labels labels;
  for (int i = 0; i < 10; ++i) labels.emplace_back("k" + std::to_string(i), "vvvv");   // 6 B each
  labels.emplace_back("com.docker.compose.service", "web");
  labels.emplace_back("com.docker.compose.project", "shop");
  std::sort(labels.begin(), labels.end());
  LabelLimits limits;
  limits.max_labels = 5;
  EXPECT_EQ(limit_labels(limits, &labels), 7u);
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_EQ(labels[0].first, "com.docker.compose.project");
  EXPECT_EQ(labels[1].first, "com.docker.compose.service");
  EXPECT_EQ(labels[2].first, "k0");
  EXPECT_EQ(labels[4].first, "k2");
}

TEST(LabelLimits, DropsOversizedValuesAndStopsAtTheByteTotal) {
  Labels labels = {{"a", std::string(100, 'x')}, {"b", "1"}, {"c", std::string(30, 'y')},
                   {"d", std::string(30, 'z')}};
  LabelLimits limits;
  limits.max_value_bytes = 50;
  limits.max_total_bytes = 40;
  EXPECT_EQ(limit_labels(limits, &labels), 2u);   // "a" too long, "d" over the total
  EXPECT_EQ(labels, (Labels{{"b", "1"}, {"c", std::string(30, 'y')}}));
  Labels none;
  EXPECT_EQ(limit_labels(limits, &none), 0u);
}

}  // namespace
}  // namespace logship::docker
