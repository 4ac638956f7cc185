#include "daemon/commands/prometheus_text.h"

#include <gtest/gtest.h>

namespace logship::commands {
namespace {

TEST(PrometheusText, ReadsNamesLabelsAndValuesAndSkipsCommentsAndJunk) {
  const auto s = parse_prometheus_text(
      "# HELP x help\n# TYPE x counter\n"
      "x{input=\"a b\",type=\"docker\"} 12\n"
      "y 3.5\n"
      "lag{file=\"/a,\\\"q\\\".log\"} 7\n"
      "h_bucket{le=\"+Inf\"} 4\n"
      "broken{input=\"a} 1\n"
      "bad_value 1x\n");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "x");
  EXPECT_EQ(s[0].label("input"), "a b");
  EXPECT_EQ(s[0].label("type"), "docker");
  EXPECT_EQ(s[0].value, 12);
  EXPECT_EQ(s[1].name, "y");
  EXPECT_TRUE(s[1].labels.empty());
  EXPECT_EQ(s[1].value, 3.5);
  EXPECT_EQ(s[2].label("file"), "/a,\"q\".log");
  EXPECT_EQ(s[3].label("le"), "+Inf");
}

}  // namespace
}  // namespace logship::commands
