// The http output's body encodings, status patterns and option checks.
#include "outputs/http/http_output.h"

#include <gtest/gtest.h>

namespace logship::plugins::httpout {
namespace {

std::shared_ptr<SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "in";
  s->key = "k";
  s->tags = {{"container_name", ValueType::kString, "web"}};
  s->labels = {{"team", "a"}};
  return s;
}

TEST(HttpOutput, NdjsonAndJsonArrayBodies) {
  Batch b(source());
  for (int i = 0; i < 3; ++i) {
    Event& e = b.add_event();
    e.time_ns = 1714557600000000000 + i;
    e.stream = Stream::kStdout;
    e.message = b.copy("m" + std::to_string(i));
  }
  b.events()[1].fields.push_back(Field{"n", Value::integer(7)});
  const httpbatch::Slice slices[] = {{&b, 0, 2}, {&b, 2, 3}};
  std::string out;
  JsonLinesEncoder(false).encode(slices, out);
  const std::string e0 = R"({"timestamp":"2024-05-01T10:00:00.000000000Z","stream":"stdout","message":"m0","container_name":"web","labels":{"team":"a"}})";
  const std::string e1 = R"({"timestamp":"2024-05-01T10:00:00.000000001Z","stream":"stdout","message":"m1","container_name":"web","labels":{"team":"a"},"n":7})";
  const std::string e2 = R"({"timestamp":"2024-05-01T10:00:00.000000002Z","stream":"stdout","message":"m2","container_name":"web","labels":{"team":"a"}})";
  EXPECT_EQ(out, e0 + "\n" + e1 + "\n" + e2 + "\n");
  JsonLinesEncoder(true).encode(slices, out);
  EXPECT_EQ(out, "[" + e0 + "," + e1 + "," + e2 + "]");
}

TEST(HttpOutput, StatusPatterns) {
  EXPECT_TRUE(status_matches({"400", "422"}, 422));
  EXPECT_FALSE(status_matches({"400", "422"}, 404));
  EXPECT_TRUE(status_matches({"4xx"}, 404));
  EXPECT_FALSE(status_matches({"4xx"}, 504));
  EXPECT_FALSE(status_matches({}, 200));
}

TEST(HttpOutput, OptionChecks) {
  HttpOptions o;
  EXPECT_TRUE(o.validate().is_ok());
  o.dead_letter_statuses = {"4xx", "409"};
  EXPECT_TRUE(o.validate().is_ok());
  o.dead_letter_statuses = {"40"};
  EXPECT_EQ(o.validate().message(), "invalid status pattern '40' (NNN or Nxx)");
  o = HttpOptions{};
  o.resend_statuses = {"6xx"};
  EXPECT_FALSE(o.validate().is_ok());
  o = HttpOptions{};
  o.basic_user = "u";
  o.bearer_token = "t";
  EXPECT_EQ(o.validate().message(), "basic_user and bearer_token exclude each other");
  o = HttpOptions{};
  o.path = "x";
  EXPECT_EQ(o.validate().message(), "path must start with '/'");
  o = HttpOptions{};
  o.headers = {{"X", "a\nb"}};
  EXPECT_FALSE(o.validate().is_ok());
}

}  // namespace
}  // namespace logship::plugins::httpout
