#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::metric;
using testing::source;

TEST(JsonParserTest, ScalarsBecomeTypedFieldsAndMsgBecomesTheMessage) {
  auto p = make("json", "jp_scalars", "{}");
  auto b = batch(source(), {R"({"level":"info","msg":"request served","status":200,)"
                            R"("duration_ms":12.5,"ok":true,"user":null,"neg":-7})"});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.message, "request served");
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(fields_json(e),
            R"({"level":"info","status":200,"duration_ms":12.5,"ok":true,"user":null,"neg":-7})");
  EXPECT_EQ(e.find("status")->value.type, ValueType::kInt);
  EXPECT_EQ(e.find("duration_ms")->value.type, ValueType::kDouble);
  EXPECT_EQ(metric("logship_json_parser_parsed_total", "jp_scalars"), 1);
  EXPECT_EQ(metric("logship_json_parser_failed_total", "jp_scalars"), 0);
}

TEST(JsonParserTest, EscapesAndUnicodeAreUnescapedByteExact) {
  auto p = make("json", "jp_escapes", "{}");
  auto b = batch(source(),
                 {R"({"msg":"line1\nline2 \"q\" \\ \/ \u00e9 \ud83d\ude00 tab\t","k\u00e9y":"caf\u00e9 \u2603"})"});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.message, "line1\nline2 \"q\" \\ / \xC3\xA9 \xF0\x9F\x98\x80 tab\t");
  ASSERT_EQ(e.fields.size(), 1u);
  EXPECT_EQ(e.fields[0].key, "k\xC3\xA9y");
  EXPECT_EQ(e.fields[0].value.s, "caf\xC3\xA9 \xE2\x98\x83");
  // Encoded again, JSON escapes come back in the output's canonical form.
  EXPECT_EQ(fields_json(e), "{\"k\xC3\xA9y\":\"caf\xC3\xA9 \xE2\x98\x83\"}");
}

TEST(JsonParserTest, NestedObjectsAndArraysStayRawJson) {
  auto p = make("json", "jp_nested", "{}");
  auto b = batch(source(), {R"({"http":{"method":"GET","headers":{"a":[1,2]}},"tags":["a","b"],)"
                            R"("empty":{},"big":18446744073709551615,"e":1e3,"s":"x"})"});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(e.find("http")->value.type, ValueType::kRawJson);
  EXPECT_EQ(fields_json(e),
            R"({"http":{"method":"GET","headers":{"a":[1,2]}},"tags":["a","b"],"empty":{},)"
            R"("big":18446744073709551616,"e":1000,"s":"x"})");
  // No message key: the parsed message is replaced by nothing (the data lives in the fields).
  EXPECT_EQ(e.message, "");

  // Whitespace around nested values: their text is kept as written, without the padding.
  auto b2 = batch(source(), {R"({"a" : { "x" : [ 1 , {"y":null} ] } , "b":[ ] ,"c":[[[]]]})"});
  p->process(*b2);
  EXPECT_EQ(b2->events()[0].flags, 0);
  EXPECT_EQ(fields_json(b2->events()[0]), R"({"a":{ "x" : [ 1 , {"y":null} ] },"b":[ ],"c":[[[]]]})");
}

TEST(JsonParserTest, PrettyPrintedNestedValuesAreMinifiedToOneLine) {
  auto p = make("json", "jp_pretty", "{}");
  auto b = batch(source(), {"{\n  \"msg\": \"m\",\n  \"ctx\": {\n    \"a\": [1, 2],\n    \"b\": \"x y\"\n  }\n}"});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.message, "m");
  EXPECT_EQ(fields_json(e), R"({"ctx":{"a":[1,2],"b":"x y"}})");
}

TEST(JsonParserTest, FailuresKeepTheRawMessageMarkAndCount) {
  auto p = make("json", "jp_fail", "{}");
  const std::vector<std::string> bad = {
      R"({"a":1,})",              // trailing comma
      R"({"a":[1,,2]})",          // broken nested array (On-Demand alone would skip it)
      R"({"a":1} {"b":2})",      // a second value after the object
      R"({"a":1} trailing)",      // garbage after the object
      R"({"a":"unterminated)",    // cut line
      "{\"a\":\"\xff\xfe\"}",     // invalid UTF-8
      R"([1,2,3])",               // not an object
      "plain text line",          // not JSON at all
      "",                         // empty
      R"({"a":{"b":1})",          // unbalanced
  };
  auto b = batch(source(), bad);
  p->process(*b);
  ASSERT_EQ(b->size(), bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) {
    const Event& e = b->events()[i];
    SCOPED_TRACE(bad[i]);
    EXPECT_EQ(e.message, bad[i]);
    EXPECT_EQ(e.flags & kEventParseFailed, kEventParseFailed);
    ASSERT_EQ(e.fields.size(), 1u);
    EXPECT_EQ(e.fields[0].key, "parse_error");
  }
  EXPECT_EQ(b->events()[0].fields[0].value.s, "invalid JSON");
  EXPECT_EQ(b->events()[2].fields[0].value.s, "trailing characters after JSON object");
  EXPECT_EQ(b->events()[6].fields[0].value.s, "not a JSON object");
  EXPECT_EQ(metric("logship_json_parser_failed_total", "jp_fail"), static_cast<int64_t>(bad.size()));
  EXPECT_EQ(metric("logship_json_parser_parsed_total", "jp_fail"), 0);
}

TEST(JsonParserTest, NonObjectPassLeavesPlainLinesAloneAndCountsThemSkipped) {
  auto p = make("json", "jp_pass", "{non_object: pass}");
  auto b = batch(source(), {"plain line", R"({"msg":"x","n":1})", R"({"bad":)"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "plain line");
  EXPECT_EQ(b->events()[0].flags, 0);
  EXPECT_TRUE(b->events()[0].fields.empty());
  EXPECT_EQ(fields_json(b->events()[1]), R"({"n":1})");
  EXPECT_EQ(b->events()[2].flags, kEventParseFailed);
  EXPECT_EQ(metric("logship_json_parser_skipped_total", "jp_pass"), 1);
  EXPECT_EQ(metric("logship_json_parser_parsed_total", "jp_pass"), 1);
  EXPECT_EQ(metric("logship_json_parser_failed_total", "jp_pass"), 1);
}

TEST(JsonParserTest, KeepOriginalLeavesTheMessageAndAddsAllKeys) {
  auto p = make("json", "jp_keep", "{keep_original: true}");
  const std::string line = R"({"msg":"hello","n":2})";
  auto b = batch(source(), {line});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, line);
  EXPECT_EQ(fields_json(b->events()[0]), R"({"msg":"hello","n":2})");
}

TEST(JsonParserTest, ParsesAFieldAndRemovesIt) {
  auto p = make("json", "jp_field", "{field: payload}");
  auto b = batch(source(), {"original message"});
  Event& e = b->events()[0];
  e.set("other", Value::integer(1));
  e.set("payload", Value::string(b->copy(R"({"user":"ann","msg":"from payload"})")));
  p->process(*b);
  EXPECT_EQ(e.message, "from payload");
  EXPECT_EQ(fields_json(e), R"({"other":1,"user":"ann"})");
  // An event without the field passes untouched.
  auto b2 = batch(source(), {R"({"user":"bob"})"});
  p->process(*b2);
  EXPECT_TRUE(b2->events()[0].fields.empty());
  EXPECT_EQ(metric("logship_json_parser_skipped_total", "jp_field"), 1);
}

TEST(JsonParserTest, TargetNestsTheWholeObjectUnderOneField) {
  auto p = make("json", "jp_target", "{target: data}");
  auto b = batch(source(), {R"(  {"msg":"m","a":{"b":[1, 2]}}  )"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "m");
  EXPECT_EQ(fields_json(b->events()[0]), R"({"data":{"msg":"m","a":{"b":[1, 2]}}})");
}

TEST(JsonParserTest, NonStringMessageKeyBecomesItsJsonText) {
  auto p = make("json", "jp_msgobj", "{}");
  auto b = batch(source(), {R"({"message":{"text":"hi","n":[1]},"a":1})", R"({"msg":42})",
                            R"({"msg":null,"message":"message ranks before msg"})"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, R"({"text":"hi","n":[1]})");
  EXPECT_EQ(fields_json(b->events()[0]), R"({"a":1})");
  EXPECT_EQ(b->events()[1].message, "42");
  EXPECT_EQ(b->events()[2].message, "message ranks before msg");
  EXPECT_EQ(fields_json(b->events()[2]), R"({"msg":null})");
}

TEST(JsonParserTest, LaterKeysReplaceExistingFields) {
  auto p = make("json", "jp_dup", "{message_key: []}");
  auto b = batch(source(), {R"({"a":1,"a":2,"msg":"stays a field"})"});
  b->events()[0].set("a", Value::string("docker attr"));
  p->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]), R"({"a":2,"msg":"stays a field"})");
}

TEST(JsonParserTest, LargeMessagesGrowTheReusedPaddedBuffer) {
  auto p = make("json", "jp_large", "{}");
  std::string big(200000, 'x');
  auto b = batch(source(), {R"({"msg":"small"})", R"({"msg":")" + big + R"(","n":1})",
                            R"({"msg":"small again"})"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "small");
  EXPECT_EQ(b->events()[1].message, big);
  EXPECT_EQ(b->events()[2].message, "small again");
}

TEST(JsonParserTest, WhenLabelAppliesOnlyToLabelledContainers) {
  auto maker = testing::bind("json", "jp_label", "{when_label: logship.parser=json|ndjson}");
  ASSERT_TRUE(maker);
  auto with = maker();
  auto without = maker();
  auto other = maker();
  const std::string line = R"({"msg":"x","n":1})";
  auto b1 = batch(source({{"logship.parser", "json"}}), {line});
  auto b2 = batch(source(), {line});
  auto b3 = batch(source({{"logship.parser", "logfmt"}}), {line});
  with->process(*b1);
  without->process(*b2);
  other->process(*b3);
  EXPECT_EQ(b1->events()[0].message, "x");
  EXPECT_EQ(b2->events()[0].message, line);
  EXPECT_EQ(b3->events()[0].message, line);
  EXPECT_EQ(metric("logship_json_parser_skipped_total", "jp_label"), 2);
}

TEST(JsonParserTest, BadOptionsAreConfigErrors) {
  std::string err;
  EXPECT_FALSE(testing::bind("json", "jp_bad", "{when_label: '=x'}", &err));
  EXPECT_NE(err.find("when_label"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("json", "jp_bad2", "{non_object: maybe}", &err));
}

}  // namespace
}  // namespace logship
