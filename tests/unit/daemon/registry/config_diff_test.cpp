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
  EXPECT_FALSE(d.in_place);
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
}

TEST(ConfigDiffTest, ChangedRouteOrProcessorRestartsTheInputInPlace) {
  ConfigDiff routes = diff_configs(load(base()), load(base("/tmp/b", "", "[]")));
  EXPECT_TRUE(routes.in_place);
  EXPECT_FALSE(routes.outputs_only);
  EXPECT_TRUE(routes.rewired);
  EXPECT_EQ(routes.restarted_inputs, Names{"gen"});
  EXPECT_EQ(routes.changed_inputs, Names{});
  EXPECT_EQ(routes.unchanged_inputs, Names{});
  std::string sampled = base();
  sampled.replace(sampled.find("rate: 2"), 7, "rate: 3");
  ConfigDiff d = diff_configs(load(base()), load(sampled));
  EXPECT_TRUE(d.in_place);
  EXPECT_FALSE(d.outputs_only);
  EXPECT_TRUE(d.rewired);
  EXPECT_EQ(d.restarted_inputs, Names{"gen"});
  EXPECT_EQ(d.unchanged_processors, Names{});
  EXPECT_EQ(d.unchanged_outputs, (Names{"a", "b"}));
}

TEST(ConfigDiffTest, AnOutputNobodyRoutesToIsAddedOrRemovedWithoutRestartingAnInput) {
  std::string more = base();
  more.replace(more.find("routes:"), 7, "  c: {type: file, path: /tmp/c}\nroutes:");
  ConfigDiff added = diff_configs(load(base()), load(more));
  EXPECT_TRUE(added.in_place);
  EXPECT_FALSE(added.outputs_only);
  EXPECT_TRUE(added.rewired);
  EXPECT_EQ(added.added_outputs, Names{"c"});
  EXPECT_EQ(added.removed_outputs, Names{});
  EXPECT_EQ(added.unchanged_outputs, (Names{"a", "b"}));
  EXPECT_EQ(added.restarted_inputs, Names{});
  EXPECT_EQ(added.unchanged_inputs, Names{"gen"});
  ConfigDiff removed = diff_configs(load(more), load(base()));
  EXPECT_EQ(removed.removed_outputs, Names{"c"});
  EXPECT_EQ(removed.restarted_inputs, Names{});
}

TEST(ConfigDiffTest, ARouteToAnAddedOutputRestartsOnlyTheInputsItTakes) {
  const std::string two = R"(
service: {state_dir: /tmp/state}
inputs:
  web: {type: generate, rate: 1}
  db: {type: generate, rate: 1}
processors:
  p: {type: sample, rate: 2}
outputs:
  a: {type: file, path: /tmp/a}
routes:
  - {match: [web], processors: [p], outputs: [a]}
  - {match: [db], outputs: [a]}
)";
  std::string more = two;
  more.replace(more.find("routes:"), 7, "  c: {type: file, path: /tmp/c}\nroutes:");
  more.replace(more.find("{match: [db], outputs: [a]}"), 27, "{match: [db], outputs: [a, c]}");
  ConfigDiff d = diff_configs(load(two), load(more));
  EXPECT_TRUE(d.in_place);
  EXPECT_EQ(d.added_outputs, Names{"c"});
  EXPECT_EQ(d.restarted_inputs, Names{"db"});
  EXPECT_EQ(d.unchanged_inputs, Names{"web"});
  // The processor only web's route runs: web alone restarts.
  std::string sampled = two;
  sampled.replace(sampled.find("rate: 2"), 7, "rate: 3");
  ConfigDiff p = diff_configs(load(two), load(sampled));
  EXPECT_EQ(p.restarted_inputs, Names{"web"});
  EXPECT_EQ(p.unchanged_inputs, Names{"db"});
  // A processor nobody runs changes nothing an input sees.
  std::string unused = two;
  unused.replace(unused.find("outputs:"), 8, "  q: {type: sample, rate: 5}\noutputs:");
  ConfigDiff u = diff_configs(load(two), load(unused));
  EXPECT_TRUE(u.rewired);
  EXPECT_EQ(u.restarted_inputs, Names{});
}

// base() with `gen`'s rate and one more input after it ("" for none).
std::string with_inputs(const std::string& gen_rate, const std::string& more_inputs,
                        const std::string& b_path = "/tmp/b") {
  std::string s = base(b_path);
  s.replace(s.find("rate: 100}"), 10, "rate: " + gen_rate + "}" + more_inputs);
  return s;
}

TEST(ConfigDiffTest, IdenticalConfigsHaveNoInputDifference) {
  ConfigDiff d = diff_configs(load(base()), load(base()));
  EXPECT_TRUE(d.in_place);
  EXPECT_FALSE(d.rewired);
  EXPECT_FALSE(d.inputs_differ());
}

TEST(ConfigDiffTest, ChangedInputIsRestartedInPlace) {
  const std::string two = "\n  other: {type: generate, rate: 5}";
  ConfigDiff d = diff_configs(load(with_inputs("100", two)), load(with_inputs("200", two)));
  EXPECT_FALSE(d.outputs_only);
  EXPECT_TRUE(d.in_place);
  EXPECT_FALSE(d.rewired);
  EXPECT_TRUE(d.inputs_differ());
  EXPECT_EQ(d.changed_inputs, Names{"gen"});
  EXPECT_EQ(d.restarted_inputs, Names{"gen"});
  EXPECT_EQ(d.unchanged_inputs, Names{"other"});
  EXPECT_EQ(d.added_inputs, Names{});
  EXPECT_EQ(d.removed_inputs, Names{});
}

TEST(ConfigDiffTest, AddedAndRemovedInputsAreInPlace) {
  ConfigDiff d = diff_configs(load(with_inputs("100", "\n  old: {type: generate, rate: 5}")),
                              load(with_inputs("100", "\n  new: {type: generate, rate: 5}")));
  EXPECT_TRUE(d.in_place);
  EXPECT_FALSE(d.outputs_only);
  EXPECT_EQ(d.added_inputs, Names{"new"});
  EXPECT_EQ(d.removed_inputs, Names{"old"});
  EXPECT_EQ(d.changed_inputs, Names{});
  EXPECT_EQ(d.unchanged_inputs, Names{"gen"});
}

TEST(ConfigDiffTest, InputAndOutputChangesTogetherAreInPlace) {
  ConfigDiff d = diff_configs(load(with_inputs("100", "")), load(with_inputs("200", "", "/tmp/b2")));
  EXPECT_TRUE(d.in_place);
  EXPECT_EQ(d.changed_inputs, Names{"gen"});
  EXPECT_EQ(d.changed_outputs, Names{"b"});
}

TEST(ConfigDiffTest, InputChangeWithRouteOrProcessorChangeIsInPlaceButNotWithServiceOptions) {
  std::string routes_changed = with_inputs("200", "");
  routes_changed.replace(routes_changed.find("processors: [p]"), 15, "processors: []");
  ConfigDiff d = diff_configs(load(base()), load(routes_changed));
  EXPECT_TRUE(d.in_place);
  EXPECT_EQ(d.changed_inputs, Names{"gen"});
  EXPECT_EQ(d.restarted_inputs, Names{"gen"});
  std::string service = with_inputs("200", "");
  service.replace(service.find("log_level: info"), 15, "log_level: info\n  queue_max_bytes: 1MiB");
  EXPECT_FALSE(diff_configs(load(base()), load(service)).in_place);
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
