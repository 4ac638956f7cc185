// The loki preset's push bodies, byte-exact: one stream per label set in order of first
// appearance, entries ordered by time within a stream, labels only from the allow-list.
#include <snappy-c.h>

#include <gtest/gtest.h>

#include "outputs/http/http_output.h"
#include "outputs/http/loki_encoder.h"

namespace logship::plugins::httpout {
namespace {

std::shared_ptr<SourceInfo> source(const std::string& container) {
  auto s = std::make_shared<SourceInfo>();
  s->input = "containers";
  s->key = container;
  s->tags = {{"container_name", ValueType::kString, container}};
  s->labels = {{"com.example.build", "1234"}, {"team", "a"}};   // never labels
  return s;
}

void add(Batch& b, int64_t t, Stream st, const std::string& msg) {
  Event& e = b.add_event();
  e.time_ns = t;
  e.stream = st;
  e.message = b.copy(msg);
}

LokiOptions options(bool protobuf) {
  LokiOptions o;
  o.protobuf = protobuf;
  o.label_fields = {"container_name", "stream", "level"};
  o.static_labels = {{"job", "logship"}};
  return o;
}

TEST(LokiEncoder, JsonStreamsByLabelSetEntriesByTime) {
  Batch web(source("web"));
  add(web, 300, Stream::kStdout, "w3");
  add(web, 100, Stream::kStdout, "w1");
  add(web, 200, Stream::kStderr, "e2 \"quoted\"");
  add(web, 100, Stream::kStdout, "w1b");   // same time as w1: keeps its order after it
  web.events()[2].fields.push_back(Field{"level", Value::string(web.copy("error"))});
  Batch db(source("db"));
  add(db, 50, Stream::kStdout, "d");
  const httpbatch::Slice slices[] = {{&web, 0, 4}, {&db, 0, 1}};
  LokiEncoder enc(options(false));
  std::string out;
  enc.encode(slices, out);
  EXPECT_EQ(out,
            R"({"streams":[)"
            R"({"stream":{"container_name":"web","job":"logship","stream":"stdout"},"values":[["100","w1"],["100","w1b"],["300","w3"]]},)"
            R"({"stream":{"container_name":"web","job":"logship","level":"error","stream":"stderr"},"values":[["200","e2 \"quoted\""]]},)"
            R"({"stream":{"container_name":"db","job":"logship","stream":"stdout"},"values":[["50","d"]]}]})");
  // Reused: the next request starts afresh.
  enc.encode(std::span(slices + 1, 1), out);
  EXPECT_EQ(out, R"({"streams":[{"stream":{"container_name":"db","job":"logship","stream":"stdout"},"values":[["50","d"]]}]})");
}

TEST(LokiEncoder, JsonLine) {
  Batch web(source("web"));
  add(web, 1714557600000000000, Stream::kStdout, "m");
  LokiOptions o = options(false);
  o.json_line = true;
  o.label_fields = {"container_name"};
  LokiEncoder enc(o);
  const httpbatch::Slice slice{&web, 0, 1};
  std::string out;
  enc.encode(std::span(&slice, 1), out);
  EXPECT_EQ(out,
            R"({"streams":[{"stream":{"container_name":"web","job":"logship"},"values":[["1714557600000000000",)"
            R"("{\"timestamp\":\"2024-05-01T10:00:00.000000000Z\",\"stream\":\"stdout\",\"message\":\"m\",\"container_name\":\"web\",\"labels\":{\"com.example.build\":\"1234\",\"team\":\"a\"}}"]]}]})");
}

// Protobuf helpers for the expected bytes.
std::string varint(uint64_t v) {
  std::string s;
  while (v > 0x7f) {
    s += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  s += static_cast<char>(v);
  return s;
}
std::string field(int n, const std::string& bytes) {
  return varint(static_cast<uint64_t>(n) << 3 | 2) + varint(bytes.size()) + bytes;
}
std::string entry(int64_t secs, int64_t nanos, const std::string& line) {
  std::string ts;
  if (secs) ts += varint(1 << 3) + varint(static_cast<uint64_t>(secs));
  if (nanos) ts += varint(2 << 3) + varint(static_cast<uint64_t>(nanos));
  return field(2, field(1, ts) + field(2, line));
}

std::string unsnappy(const std::string& in) {
  std::size_t n = 0;
  EXPECT_EQ(snappy_uncompressed_length(in.data(), in.size(), &n), SNAPPY_OK);
  std::string out(n, '\0');
  EXPECT_EQ(snappy_uncompress(in.data(), in.size(), out.data(), &n), SNAPPY_OK);
  out.resize(n);
  return out;
}

TEST(LokiEncoder, ProtobufSnappy) {
  Batch web(source("web"));
  add(web, 1714557601000000005, Stream::kStdout, "b");
  add(web, 1714557600000000007, Stream::kStdout, "a");
  add(web, 1714557600500000000, Stream::kStderr, "c");
  web.events()[2].fields.push_back(Field{"level", Value::string(web.copy("say \"hi\"\\"))});
  const httpbatch::Slice slice{&web, 0, 3};
  LokiEncoder enc(options(true));
  std::string out;
  enc.encode(std::span(&slice, 1), out);
  const std::string expected =
      field(1, field(1, R"({container_name="web", job="logship", stream="stdout"})") +
                   entry(1714557600, 7, "a") + entry(1714557601, 5, "b")) +
      field(1, field(1, R"({container_name="web", job="logship", level="say \"hi\"\\", stream="stderr"})") +
                   entry(1714557600, 500000000, "c"));
  EXPECT_EQ(unsnappy(out), expected);
}

TEST(LokiEncoder, LongLabelValueIsCutOnACharacterBoundary) {
  auto s = source(std::string(kMaxLabelValueBytes - 1, 'x') + "\xc3\xa9");   // 'é' straddles the cut
  Batch b(s);
  add(b, 1, Stream::kNone, "m");
  LokiOptions o;
  o.label_fields = {"container_name"};
  LokiEncoder enc(o);
  const httpbatch::Slice slice{&b, 0, 1};
  std::string out;
  enc.encode(std::span(&slice, 1), out);
  EXPECT_EQ(out, R"({"streams":[{"stream":{"container_name":")" + std::string(kMaxLabelValueBytes - 1, 'x') +
                     R"("},"values":[["1","m"]]}]})");
}

TEST(LokiEncoder, ManyStreamsGrowTheTable) {
  std::vector<std::unique_ptr<Batch>> batches;
  std::vector<httpbatch::Slice> slices;
  for (int i = 0; i < 200; ++i) {
    batches.push_back(std::make_unique<Batch>(source("c" + std::to_string(i))));
    add(*batches.back(), i, Stream::kNone, "m");
    add(*batches.back(), i, Stream::kNone, "n");
    slices.push_back({batches.back().get(), 0, 2});
  }
  LokiOptions o;
  o.label_fields = {"container_name"};
  LokiEncoder enc(o);
  std::string out;
  enc.encode(slices, out);
  std::size_t streams = 0;
  for (std::size_t p = out.find("\"stream\":"); p != std::string::npos; p = out.find("\"stream\":", p + 1)) ++streams;
  EXPECT_EQ(streams, 200u);
  EXPECT_NE(out.find(R"({"stream":{"container_name":"c199"},"values":[["199","m"],["199","n"]]})"), std::string::npos);
}

TEST(LokiOptions, Checks) {
  HttpOptions o;
  o.preset = Preset::kLoki;
  EXPECT_TRUE(o.validate().is_ok());
  EXPECT_EQ(o.request_path(), "/loki/api/v1/push");
  o.loki_labels = {"container.name"};
  EXPECT_EQ(o.validate().message(), "loki_labels: 'container.name' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
  o.loki_labels.assign(15, "a");
  EXPECT_EQ(o.validate().message(), "loki_labels and loki_static_labels: at most 15 labels (Loki's limit per stream)");
  o.loki_labels = {"stream"};
  o.compression = Compression::kGzip;
  EXPECT_EQ(o.validate().message(), "loki_encoding protobuf is snappy-compressed: compression must be none");
  o.loki_encoding = LokiEncoding::kJson;
  EXPECT_TRUE(o.validate().is_ok());
  o.loki_labels.clear();
  o.loki_static_labels.clear();
  EXPECT_EQ(o.validate().message(), "preset loki needs loki_labels or loki_static_labels (Loki refuses a stream without labels)");
  EXPECT_TRUE(valid_label_name("_a1"));
  EXPECT_FALSE(valid_label_name("1a"));
  EXPECT_FALSE(valid_label_name(""));
}

}  // namespace
}  // namespace logship::plugins::httpout
