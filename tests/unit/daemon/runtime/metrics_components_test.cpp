// Series of a component carry its plugin type, and leave /metrics when a reload removes it.
#include <gtest/gtest.h>

#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

TEST(MetricsComponents, SeriesOfATypedComponentCarryItsType) {
  Metrics m;
  m.set_component_type("input", "web", "docker");
  m.counter("t_events_total", "input=\"web\"", "h").fetch_add(3);
  m.gauge("t_lag", "input=\"web\",file=\"/a,b\"", "h").store(7);
  m.counter("t_events_total", "input=\"other\"", "h").fetch_add(1);   // not typed
  m.counter("t_events_total", "rule=\"web\"", "h").fetch_add(1);      // not a component label
  const std::string text = m.render_prometheus();
  EXPECT_NE(text.find("t_events_total{input=\"web\",type=\"docker\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_lag{input=\"web\",file=\"/a,b\",type=\"docker\"} 7\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_events_total{input=\"other\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_events_total{rule=\"web\"} 1\n"), std::string::npos) << text;
  // Callers keep addressing series by the labels they gave.
  EXPECT_EQ(m.value("t_events_total", "input=\"web\""), 3);
  EXPECT_EQ(&m.counter("t_events_total", "input=\"web\""),
            &m.counter("t_events_total", "input=\"web\""));
  m.remove("t_lag", "input=\"web\",file=\"/a,b\"");
  EXPECT_EQ(m.render_prometheus().find("t_lag{"), std::string::npos);
}

TEST(MetricsComponents, ForgettingAComponentRemovesOnlyItsSeries) {
  Metrics m;
  m.set_component_type("output", "es", "elasticsearch");
  m.set_component_type("output", "es2", "elasticsearch");
  m.counter("t_out_total", "output=\"es\"", "h").fetch_add(1);
  m.counter("t_retries_total", "output=\"es\"", "h").fetch_add(1);
  m.counter("t_out_total", "output=\"es2\"", "h").fetch_add(2);   // a name with es as prefix
  m.counter("t_in_total", "input=\"es\"", "h").fetch_add(4);      // another kind, same name
  m.forget_component("output", "es");
  const std::string text = m.render_prometheus();
  EXPECT_EQ(text.find("output=\"es\""), std::string::npos) << text;
  EXPECT_NE(text.find("t_out_total{output=\"es2\",type=\"elasticsearch\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("t_in_total{input=\"es\"} 4\n"), std::string::npos) << text;
  // Back under another type: new series, starting from zero, with the new type.
  m.set_component_type("output", "es", "kafka");
  m.counter("t_out_total", "output=\"es\"", "h").fetch_add(5);
  EXPECT_NE(m.render_prometheus().find("t_out_total{output=\"es\",type=\"kafka\"} 5\n"),
            std::string::npos);
}

}  // namespace
}  // namespace logship
