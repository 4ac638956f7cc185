#include "daemon/core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace logship {
namespace {

std::string str(std::string_view s) {
  std::string out;
  json::append_string(out, s);
  return out;
}

TEST(JsonWriterTest, EscapesControlQuotesAndBackslash) {
  EXPECT_EQ(str("a\"b\\c\n\t\r\b\f"), R"("a\"b\\c\n\t\r\b\f")");
  EXPECT_EQ(str(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(str(std::string_view("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonWriterTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(str("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"), "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(str("a\xFF" "b"), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_EQ(str("\xC3"), "\"\xEF\xBF\xBD\"");                 // truncated sequence
  EXPECT_EQ(str("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(str("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong
}

TEST(JsonWriterTest, Rfc3339WithNanoseconds) {
  std::string out;
  json::append_rfc3339(out, 1714557600123456789LL);
  EXPECT_EQ(out, "2024-05-01T10:00:00.123456789Z");
  out.clear();
  json::append_rfc3339(out, 0);
  EXPECT_EQ(out, "1970-01-01T00:00:00.000000000Z");
  out.clear();
  json::append_rfc3339(out, -1);
  EXPECT_EQ(out, "1969-12-31T23:59:59.999999999Z");
}

TEST(JsonWriterTest, EventWithTagsLabelsAndTypedFields) {
  auto src = std::make_shared<SourceInfo>();
  src->tags = {{"container_name", ValueType::kString, "web"}};
  src->labels = {{"app", "shop"}};
  Batch b(src);
  Event& e = b.add_event();
  e.time_ns = 1714557600000000000LL;
  e.stream = Stream::kStderr;
  e.message = b.copy("boom \"x\"");
  e.fields.push_back({"status", Value::integer(500)});
  e.fields.push_back({"ok", Value::boolean(false)});
  e.fields.push_back({"ratio", Value::real(0.5)});
  e.fields.push_back({"ctx", Value::raw_json(R"({"a":[1,2]})")});
  e.fields.push_back({"who", Value::string("me")});
  std::string out;
  json::append_event(out, e, *src);
  EXPECT_EQ(out,
            R"({"timestamp":"2024-05-01T10:00:00.000000000Z","stream":"stderr","message":"boom \"x\"",)"
            R"("container_name":"web","labels":{"app":"shop"},"status":500,"ok":false,"ratio":0.5,)"
            R"("ctx":{"a":[1,2]},"who":"me"})");
}

TEST(JsonWriterTest, NonFiniteNumbersBecomeNull) {
  std::string out;
  json::append_value(out, Value::real(std::numeric_limits<double>::infinity()));
  out.push_back(',');
  json::append_value(out, Value::real(std::nan("")));
  out.push_back(',');
  json::append_value(out, Value::real(-1.5));
  EXPECT_EQ(out, "null,null,-1.5");
}

}  // namespace
}  // namespace logship
