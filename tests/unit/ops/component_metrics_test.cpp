// A component's metrics: its label made once and escaped, one more label, the processor name
// taken from its binder's context.
#include "daemon/runtime/component_metrics.h"

#include <gtest/gtest.h>

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

TEST(ComponentMetrics, AProcessorsNameComesFromItsContext) {
  EXPECT_EQ(ComponentMetrics::of_processor("processors.limit (throttle)").name(), "limit");
  EXPECT_EQ(ComponentMetrics::of_processor("processors.a.b (json)").name(), "a.b");
  EXPECT_EQ(ComponentMetrics::of_processor("processors.x (y) (modify)").name(), "x (y)");
  EXPECT_EQ(ComponentMetrics::of_processor("processors.plain").name(), "plain");
  EXPECT_EQ(ComponentMetrics::of_processor("processors.q\"x (filter)").labels(),
            R"(processor="q\"x")");
}

TEST(ComponentMetrics, DroppedEventsAreCountedPerProcessorAndReason) {
  auto& c = processors::dropped_counter("processors.no\"health (filter)", "drop_if");
  const auto before = c.load();
  c.fetch_add(2);
  EXPECT_EQ(Metrics::global().value("logship_processor_dropped_total",
                                    R"(processor="no\"health",reason="drop_if")") -
                static_cast<int64_t>(before),
            2);
}

}  // namespace
}  // namespace logship
