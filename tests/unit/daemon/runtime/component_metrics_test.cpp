// A component's metrics: its label made once and escaped, one more label, the component taken
// from its plugin context.
#include "daemon/runtime/component_metrics.h"

#include <gtest/gtest.h>

#include "daemon/runtime/component_log.h"
#include "processors/common/drop_events.h"

namespace logship {
namespace {

TEST(ComponentMetrics, EverySeriesCarriesTheEscapedComponentLabel) {
  const ComponentMetrics m("processor", "a\"b\\c\nd");
  EXPECT_EQ(m.labels(), R"(processor="a\"b\\c\nd")");
  EXPECT_EQ(m.labels_with("reason", "x\"y"), R"(processor="a\"b\\c\nd",reason="x\"y")");
  m.counter("logship_cm_test_total", "help").fetch_add(3);
  m.counter("logship_cm_test_total", "help", "reason", "r").fetch_add(5);
  m.gauge("logship_cm_test_gauge", "help").store(7);
  EXPECT_EQ(Metrics::global().value("logship_cm_test_total", m.labels()), 3);
  EXPECT_EQ(Metrics::global().value("logship_cm_test_total", m.labels_with("reason", "r")), 5);
  EXPECT_EQ(Metrics::global().value("logship_cm_test_gauge", m.labels()), 7);
}

TEST(ComponentMetrics, AComponentsLabelComesFromItsPluginContext) {
  // Names may hold dots, parentheses and quotes: nothing is parsed back out of a string.
  const PluginContext limit{PluginKind::kProcessor, "x (y).z", "throttle"};
  EXPECT_EQ(limit.where(), "processors.x (y).z (throttle)");
  EXPECT_EQ(ComponentMetrics(limit).name(), "x (y).z");
  EXPECT_EQ(ComponentMetrics(PluginContext{PluginKind::kProcessor, "q\"x", "filter"}).labels(),
            R"(processor="q\"x")");
  EXPECT_EQ(ComponentMetrics(PluginContext{PluginKind::kOutput, "es", "elasticsearch"}).labels(),
            R"(output="es")");
  EXPECT_EQ(PluginContext({PluginKind::kInput, "c", "docker"}).where(), "inputs.c (docker)");
}

TEST(ComponentMetrics, DroppedEventsAreCountedPerProcessorAndReason) {
  auto& c = processors::dropped_counter(
      ComponentMetrics(PluginContext{PluginKind::kProcessor, "no\"health", "filter"}), "drop_if");
  const auto before = c.load();
  c.fetch_add(2);
  EXPECT_EQ(Metrics::global().value("logship_processor_dropped_total",
                                    R"(processor="no\"health",reason="drop_if")") -
                static_cast<int64_t>(before),
            2);
}

}  // namespace
}  // namespace logship

namespace logship {
namespace {

TEST(ComponentLog, LinesCarryTheComponentAndAreRateLimitedWithTheSuppressedCount) {
  const ComponentLog log(PluginContext{PluginKind::kProcessor, "ts \"1\"", "timestamp"});
  log::RateLimit limit(2, std::chrono::seconds(3600));
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(log.warn(limit, "cannot parse time", log::kv("value", "x")));
  EXPECT_TRUE(log.warn(limit, "cannot parse time", log::kv("value", "y")));
  EXPECT_FALSE(log.warn(limit, "cannot parse time", log::kv("value", "z")));
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(R"(component=timestamp msg="cannot parse time" processor="ts \"1\"" value=x)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("value=y"), std::string::npos) << out;
  EXPECT_EQ(out.find("value=z"), std::string::npos) << out;
  EXPECT_EQ(out.find("suppressed"), std::string::npos) << out;   // nothing suppressed before
}

TEST(ComponentLog, LifeLinesAreNeverSuppressedAndTheComponentCanBeNamed) {
  const ComponentLog log(PluginContext{PluginKind::kInput, "pods", "file"}, "tail");
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 20; ++i) log.info("file released", log::kv("n", i));
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find(R"(component=tail msg="file released" input=pods n=0)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("input=pods n=19"), std::string::npos) << out;
}

}  // namespace
}  // namespace logship
