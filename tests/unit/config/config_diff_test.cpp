#include "daemon/registry/config_diff.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace logship::config {
namespace {

Config load(const std::string& yaml) {
  Errors errors("t.yaml");
  auto cfg = load_config_text(yaml, "t.yaml", errors);
  EXPECT_TRUE(cfg) << errors.to_string();
  return cfg ? std::move(*cfg) : Config{};
}

std::string base(const std::string& b_path = "/tmp/b", const std::string& extra_service = "",
                 const std::string& route_processors = "[p]") {
  return R"(
service:
  state_dir: /tmp/state
  log_level: info)" + extra_service + R"(
inputs:
  gen: {type: generate, rate: 100}
processors:
  p: {type: sample, rate: 2}
outputs:
  a: {type: file, path: /tmp/a}
  b: {type: file, path: )" + b_path + R"(}
routes:
  - match: ["*"]
    processors: )" + route_processors + R"(
    outputs: [a, b]
)";
}

using Names = std::vector<std::string>;

TEST(ConfigDiffTest, IdenticalConfigsChangeNothing) {
  ConfigDiff d = diff_configs(load(base()), load(base()));
  EXPECT_TRUE(d.outputs_only);
  EXPECT_TRUE(d.pipeline_unchanged());
  EXPECT_EQ(d.unchanged_inputs, Names{"gen"});
  EXPECT_EQ(d.unchanged_processors, Names{"p"});
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
  EXPECT_EQ(d.changed_outputs, Names{});
}

TEST(ConfigDiffTest, OneOutputsSettingsChangedIsSwappedInPlace) {
  ConfigDiff d = diff_configs(load(base()), load(base("/tmp/b2")));
  EXPECT_TRUE(d.outputs_only);
  EXPECT_FALSE(d.pipeline_unchanged());
  EXPECT_EQ(d.changed_outputs, Names{"b"});
  EXPECT_EQ(d.unchanged_outputs, Names{"a"});
  EXPECT_EQ(d.unchanged_inputs, Names{"gen"});
}

TEST(ConfigDiffTest, LogLevelAndRestartOnlyOptionsDoNotNeedANewPipeline) {
  ConfigDiff d = diff_configs(
      load(base()), load(base("/tmp/b", "\n  drain_timeout: 3s\n  tap: \"off\"\n  http_reload: any")));
  EXPECT_TRUE(d.pipeline_unchanged());
}

TEST(ConfigDiffTest, PipelineServiceOptionsNeedANewPipeline) {
  ConfigDiff d = diff_configs(load(base()), load(base("/tmp/b", "\n  queue_max_bytes: 1MiB")));
  EXPECT_FALSE(d.outputs_only);
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
}

TEST(ConfigDiffTest, ChangedRouteOrProcessorNeedsANewPipeline) {
  EXPECT_FALSE(diff_configs(load(base()), load(base("/tmp/b", "", "[]"))).outputs_only);
  std::string sampled = base();
  sampled.replace(sampled.find("rate: 2"), 7, "rate: 3");
  ConfigDiff d = diff_configs(load(base()), load(sampled));
  EXPECT_FALSE(d.outputs_only);
  EXPECT_EQ(d.unchanged_processors, Names{});
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
}

TEST(ConfigDiffTest, AddedOrRemovedOutputNeedsANewPipeline) {
  std::string more = base();
  more.replace(more.find("routes:"), 7, "  c: {type: file, path: /tmp/c}\nroutes:");
  ConfigDiff d = diff_configs(load(base()), load(more));
  EXPECT_FALSE(d.outputs_only);
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
}

TEST(ConfigDiffTest, ComparesSubstitutedValues) {
  ::setenv("LOGSHIP_DIFF_TEST_PATH", "/tmp/b", 1);
  const std::string with_env = base("\"${LOGSHIP_DIFF_TEST_PATH}\"");
  // Different text, the same value behind it: unchanged.
  EXPECT_TRUE(diff_configs(load(base()), load(with_env)).pipeline_unchanged());
  // The same text, a different value behind it: changed.
  ::setenv("LOGSHIP_DIFF_TEST_PATH", "/tmp/b3", 1);
  Config before = load(base());
  ConfigDiff d = diff_configs(before, load(with_env));
  EXPECT_EQ(d.changed_outputs, Names{"b"});
  ::unsetenv("LOGSHIP_DIFF_TEST_PATH");
}

}  // namespace
}  // namespace logship::config
