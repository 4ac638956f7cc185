#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::metric;
using testing::source;

TEST(LogfmtParserTest, PairsQuotedValuesEscapesAndBareKeys) {
  auto p = make("logfmt", "lf_basic", "{}");
  auto b = batch(source(), {R"(time=2024-05-01T10:00:00Z level=info msg="request served" )"
                            R"(path=/api/orders?id=7 user="O'Brien \"OB\" \\ caf\u00e9" status=200 )"
                            R"(took=12.5ms cached  empty= q="")"});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(e.message, "request served");
  EXPECT_EQ(fields_json(e),
            R"({"time":"2024-05-01T10:00:00Z","level":"info","path":"/api/orders?id=7",)"
            "\"user\":\"O'Brien \\\"OB\\\" \\\\ caf\xC3\xA9\",\"status\":\"200\",\"took\":\"12.5ms\","
            R"("cached":true,"empty":"","q":""})");
  EXPECT_EQ(metric("logship_logfmt_parser_parsed_total", "lf_basic"), 1);
}

TEST(LogfmtParserTest, AutoTypesAndExplicitTypes) {
  auto p = make("logfmt", "lf_types", "{auto_types: true, types: {code: string, took: double}}");
  auto b = batch(source(), {R"(status=200 ratio=0.25 ok=true neg=-3 code=007 took=3 q="200" id=12ab)"});
  p->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"status":200,"ratio":0.25,"ok":true,"neg":-3,"code":"007","took":3,"q":"200",)"
            R"("id":"12ab"})");
  EXPECT_EQ(b->events()[0].find("took")->value.type, ValueType::kDouble);
}

TEST(LogfmtParserTest, NewlineAndTabEscapesInQuotedValues) {
  auto p = make("logfmt", "lf_esc", "{message_key: []}");
  auto b = batch(source(), {R"(err="line1\nline2\tx" msg=kept)"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "");
  EXPECT_EQ(b->events()[0].find("err")->value.s, "line1\nline2\tx");
  EXPECT_EQ(b->events()[0].find("msg")->value.s, "kept");
}

TEST(LogfmtParserTest, MalformedLinesStayRawMarkedAndCounted) {
  auto p = make("logfmt", "lf_bad", "{}");
  const std::vector<std::string> bad = {
      R"(level=info msg="unterminated)",
      R"(=value a=b)",
      "just some words",
      R"(a="x"y)",
      R"(a=b"c)",
      R"(a="bad \q escape")",
      "   ",
  };
  auto b = batch(source(), bad);
  p->process(*b);
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(bad[i]);
    const Event& e = b->events()[i];
    EXPECT_EQ(e.message, bad[i]);
    EXPECT_EQ(e.flags, kEventParseFailed);
    ASSERT_EQ(e.fields.size(), 1u);
    EXPECT_EQ(e.fields[0].key, "parse_error");
  }
  EXPECT_EQ(b->events()[0].fields[0].value.s, "unterminated quoted value");
  EXPECT_EQ(b->events()[2].fields[0].value.s, "no key=value pair");
  EXPECT_EQ(metric("logship_logfmt_parser_failed_total", "lf_bad"), static_cast<int64_t>(bad.size()));
}

TEST(LogfmtParserTest, KeepOriginalAndWhenLabel) {
  auto maker = testing::bind("logfmt", "lf_keep", "{keep_original: true, when_label: logship.parser=logfmt}");
  ASSERT_TRUE(maker);
  auto on = maker();
  auto off = maker();
  const std::string line = "a=1 msg=hi";
  auto b1 = batch(source({{"logship.parser", "logfmt"}}), {line});
  auto b2 = batch(source(), {line});
  on->process(*b1);
  off->process(*b2);
  EXPECT_EQ(b1->events()[0].message, line);
  EXPECT_EQ(fields_json(b1->events()[0]), R"({"a":"1","msg":"hi"})");
  EXPECT_TRUE(b2->events()[0].fields.empty());
}

}  // namespace
}  // namespace logship
