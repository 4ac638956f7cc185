// The dead-letter line round trip: what the daemon writes is read back into the same event and
// the same source, so a replayed document is the one the output would have written first.
#include <gtest/gtest.h>

#include <cmath>

#include "daemon/core/dead_letter_record.h"
#include "daemon/core/json_writer.h"

namespace logship {
namespace {

std::shared_ptr<SourceInfo> docker_source() {
  auto src = std::make_shared<SourceInfo>();
  src->input = "containers";
  src->key = "docker:abc123";
  src->file_path = "/var/lib/docker/containers/abc/abc-json.log";
  src->tags = {{"container_id", ValueType::kString, "abc123"},
               {"container_name", ValueType::kString, "web \"1\""},
               {"compose", ValueType::kRawJson, R"({"project":"p","n":[1,2]})"}};
  src->labels = {{"traefik.http.routers.x.tls", "true"},
                 {"traefik.http.routers.x.tls.certresolver", "le"}};
  return src;
}

std::string encode(const Event& e, const SourceInfo& src, std::string_view reason = "status 400: x") {
  std::string line;
  dead_letter::encode(line, "es", "rejected", reason, e, src);
  return line;
}

TEST(DeadLetterRecordTest, EveryPartOfTheEventAndItsSourceRoundTrips) {
  auto src = docker_source();
  Batch b(src);
  Event& e = b.add_event();
  e.time_ns = 1714557600123456789;
  e.offset = 987654321;
  e.stream = Stream::kStderr;
  e.flags = kEventTruncated | kEventParseFailed;
  e.message = b.copy("line with \"quotes\", a tab\t and ünïcode");
  e.fields.push_back({"level", Value::string("error")});
  e.fields.push_back({"n", Value::integer(-42)});
  e.fields.push_back({"ratio", Value::real(0.125)});
  e.fields.push_back({"ok", Value::boolean(false)});
  e.fields.push_back({"nothing", Value()});
  e.fields.push_back({"obj", Value::raw_json(R"({"a":[1,"x",{"b":null}]})")});
  e.fields.push_back({"labels", Value::string("a field named like the labels object")});
  const std::string line = encode(e, *src, "status 400: mapper_parsing_exception");
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(line.find('\n'), line.size() - 1);

  auto decoded = dead_letter::decode(line);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message() << "\n" << line;
  const dead_letter::Record& r = decoded.value();
  EXPECT_EQ(r.output, "es");
  EXPECT_EQ(r.error, "rejected");
  EXPECT_EQ(r.reason, "status 400: mapper_parsing_exception");
  EXPECT_TRUE(dead_letter::same_source(*r.source, *src));
  EXPECT_EQ(r.source->file_path, src->file_path);

  Batch again(r.source);
  dead_letter::add_event(r, again);
  const Event& g = again.events()[0];
  EXPECT_EQ(g.time_ns, e.time_ns);
  EXPECT_EQ(g.offset, e.offset);
  EXPECT_EQ(g.stream, e.stream);
  EXPECT_EQ(g.flags, e.flags);
  EXPECT_EQ(g.message, e.message);
  ASSERT_EQ(g.fields.size(), e.fields.size());
  for (std::size_t i = 0; i < e.fields.size(); ++i) {
    EXPECT_EQ(g.fields[i].key, e.fields[i].key);
    EXPECT_EQ(g.fields[i].value.type, e.fields[i].value.type) << e.fields[i].key;
  }
  EXPECT_EQ(g.fields[0].value.s, "error");
  EXPECT_EQ(g.fields[1].value.i, -42);
  EXPECT_EQ(g.fields[2].value.d, 0.125);
  EXPECT_FALSE(g.fields[3].value.b);
  EXPECT_EQ(g.fields[5].value.s, R"({"a":[1,"x",{"b":null}]})");
  // Written again, the line is byte for byte the same: nothing was lost or reordered.
  EXPECT_EQ(encode(g, *r.source, "status 400: mapper_parsing_exception"), line);
}

TEST(DeadLetterRecordTest, AnEventWithoutStreamTagsOrLabelsRoundTrips) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  src->key = "stdin";
  Batch b(src);
  Event& e = b.add_event();
  e.time_ns = 0;
  e.message = b.copy("");
  e.fields.push_back({"stream", Value::string("a field, not the stream")});
  const std::string line = encode(e, *src);
  auto decoded = dead_letter::decode(line);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  const dead_letter::Record& r = decoded.value();
  EXPECT_EQ(r.stream, Stream::kNone);
  EXPECT_TRUE(r.source->tags.empty());
  EXPECT_TRUE(r.source->labels.empty());
  ASSERT_EQ(r.fields.size(), 1u);
  EXPECT_EQ(r.fields[0].key, "stream");
  Batch again(r.source);
  dead_letter::add_event(r, again);
  EXPECT_EQ(encode(again.events()[0], *r.source), line);
}

TEST(DeadLetterRecordTest, LinesThatAreNotDeadLettersAreRefusedWithAReason) {
  for (std::string_view bad : {
           std::string_view("not json"),
           std::string_view(R"({"output":"es"})"),
           std::string_view(R"({"output":"es","error":"rejected","reason":"x","event":{"message":"m"},"meta":{"input":"i","key":"k","offset":0,"flags":0,"tags":0,"labels":0}})"),
           std::string_view(R"({"output":"es","error":"rejected","reason":"x","event":{"timestamp":"2024-01-01T00:00:00Z","message":"m"},"meta":{"input":"i","key":"k","offset":0,"flags":0,"tags":2,"labels":0}})"),
           std::string_view(R"({"output":"es","error":"rejected","reason":"x","event":{"timestamp":"2024-01-01T00:00:00Z","message":"m"},"meta":{"input":"i","key":"k","offset":-1,"flags":0,"tags":0,"labels":0}})"),
       }) {
    auto decoded = dead_letter::decode(bad);
    EXPECT_FALSE(decoded.is_ok()) << bad;
    EXPECT_FALSE(decoded.status().message().empty()) << bad;
  }
}

}  // namespace
}  // namespace logship
