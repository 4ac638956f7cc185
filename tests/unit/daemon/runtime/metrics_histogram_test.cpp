#include <gtest/gtest.h>

#include "daemon/runtime/metrics.h"
#include "daemon/runtime/process_metrics.h"

namespace logship {
namespace {

TEST(MetricsHistogram, RendersCumulativeBucketsSumAndCount) {
  Metrics m;
  Histogram& h = m.histogram("test_latency_seconds", "output=\"a\"", "Test latency",
                             {0.01, 0.1, 1});
  h.observe(0.005);
  h.observe(0.05);
  h.observe(0.05);
  h.observe(5);
  EXPECT_EQ(&h, &m.histogram("test_latency_seconds", "output=\"a\"", "", {9}));
  EXPECT_EQ(m.value("test_latency_seconds", "output=\"a\""), 4);
  EXPECT_EQ(m.render_prometheus(),
            "# HELP test_latency_seconds Test latency\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{output=\"a\",le=\"0.01\"} 1\n"
            "test_latency_seconds_bucket{output=\"a\",le=\"0.1\"} 3\n"
            "test_latency_seconds_bucket{output=\"a\",le=\"1\"} 3\n"
            "test_latency_seconds_bucket{output=\"a\",le=\"+Inf\"} 4\n"
            "test_latency_seconds_sum{output=\"a\"} 5.105\n"
            "test_latency_seconds_count{output=\"a\"} 4\n");
}

TEST(MetricsHistogram, BoundaryValueFallsIntoItsBucketAndNoLabels) {
  Metrics m;
  Histogram& h = m.histogram("x_seconds", "", "X", {1, 2});
  h.observe(1);   // le="1" includes 1
  EXPECT_EQ(h.bucket(0), 1u);
  EXPECT_NE(m.render_prometheus().find("x_seconds_bucket{le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(m.render_prometheus().find("x_seconds_count 1\n"), std::string::npos);
}

TEST(MetricsHistogram, BoundsPrintAsPlainDecimalsLikePrometheusClients) {
  Metrics m;
  Histogram& h = m.histogram("y_seconds", "", "Y", {0.0005, 2.5, 10, 60, 1000000});
  h.observe(30);
  const std::string text = m.render_prometheus();
  for (const char* le : {"le=\"0.0005\"", "le=\"2.5\"", "le=\"10\"", "le=\"60\"",
                         "le=\"1000000\""}) {
    EXPECT_NE(text.find(le), std::string::npos) << le << " in\n" << text;
  }
  EXPECT_EQ(text.find("e+"), std::string::npos) << text;
  EXPECT_NE(text.find("y_seconds_sum 30\n"), std::string::npos) << text;
}

TEST(ProcessMetrics, StandardSeriesAndBuildInfo) {
  const std::string text = render_process_metrics();
  for (const char* series : {"\nprocess_cpu_seconds_total ", "\nprocess_resident_memory_bytes ",
                             "\nprocess_virtual_memory_bytes ", "\nprocess_start_time_seconds ",
                             "\nprocess_open_fds ", "\nprocess_max_fds ",
                             "\nlogship_batch_blocks_kept_bytes "}) {
    EXPECT_NE(text.find(series), std::string::npos) << series << " in\n" << text;
  }
  EXPECT_NE(text.find("logship_build_info{version=\"" LOGSHIP_VERSION "\",commit=\""),
            std::string::npos) << text;
}

}  // namespace
}  // namespace logship
