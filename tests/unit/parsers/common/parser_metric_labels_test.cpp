// A processor's name goes into its metric labels escaped: a name holding a quote or a backslash
// cannot break the exposition format or run into another series.
#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship::testing {
namespace {

TEST(ParserMetricLabels, ProcessorNamesAreEscapedInEveryParsersSeries) {
  const std::string name = R"(we"ird\name)";
  const std::string labels = label("processor", name);
  ASSERT_EQ(labels, R"(processor="we\"ird\\name")");
  struct Case {
    const char* type;
    const char* yaml;
    const char* series;
    const char* line;
  };
  const Case cases[] = {
      {"json", "", "logship_json_parser_parsed_total", R"({"a":1})"},
      {"logfmt", "", "logship_logfmt_parser_parsed_total", "a=1"},
      {"regex", "pattern: ['(?P<n>\\d+)']\n", "logship_regex_parser_parsed_total", "42"},
      {"timestamp", "field: message\nformat: epoch\n", "logship_timestamp_parsed_total", "1700000000"},
  };
  for (const Case& c : cases) {
    const int64_t before = Metrics::global().value(c.series, labels);
    Made p = make(c.type, name, c.yaml);
    ASSERT_TRUE(p.p) << c.type;
    auto b = batch(source(), {c.line});
    p->process(*b);
    EXPECT_EQ(Metrics::global().value(c.series, labels) - before, 1) << c.type;
  }
}

}  // namespace
}  // namespace logship::testing
