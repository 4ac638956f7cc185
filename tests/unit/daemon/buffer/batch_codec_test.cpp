#include "daemon/buffer/batch_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "daemon/core/json_writer.h"

namespace logship {
namespace {

std::shared_ptr<SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "docker";
  s->key = "docker/abc/abc-json.log";
  s->tags = {{"container_id", ValueType::kString, "abc"},
             {"meta", ValueType::kRawJson, R"({"a":[1,2]})"}};
  s->labels = {{"com.docker.compose.service", "web"}, {"empty", ""}};
  return s;
}

BatchPtr sample() {
  auto b = std::make_unique<Batch>(source());
  Event& e = b->add_event();
  e.time_ns = 1'700'000'000'123'456'789;
  e.offset = 1ull << 40;
  e.stream = Stream::kStderr;
  e.flags = kEventParseFailed | kEventTruncated;
  e.message = b->copy(std::string("line with \0 nul and \xc3\xa9", 23));
  e.set("s", Value::string(b->copy("text")));
  e.set("raw", Value::raw_json(b->copy(R"({"x":1})")));
  e.set("neg", Value::integer(std::numeric_limits<int64_t>::min()));
  e.set("pos", Value::integer(std::numeric_limits<int64_t>::max()));
  e.set("d", Value::real(-0.125));
  e.set("t", Value::boolean(true));
  e.set("f", Value::boolean(false));
  e.set("n", Value());
  Event& empty = b->add_event();   // no message, no fields
  empty.time_ns = -5;
  return b;
}

// Everything an output sees, in one string.
std::string render(const Batch& b) {
  std::string out;
  for (const Event& e : b.events()) {
    out += std::to_string(e.time_ns) + "/" + std::to_string(e.offset) + "/" +
           std::to_string(static_cast<int>(e.stream)) + "/" + std::to_string(e.flags) + " ";
    json::append_event(out, e, b.source());
    out += "\n";
  }
  return out;
}

TEST(BatchCodecTest, RoundTripKeepsEveryFieldTypeAndTheSource) {
  BatchPtr b = sample();
  BatchEncoder enc;
  std::string rec;
  enc.encode(*b, rec);
  BatchDecoder dec;
  auto decoded = dec.decode(rec);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  BatchPtr back = std::move(decoded).value();
  EXPECT_EQ(render(*back), render(*b));
  EXPECT_EQ(back->source().input, "docker");
  EXPECT_EQ(back->source().key, b->source().key);
  ASSERT_EQ(back->source().tags.size(), 2u);
  EXPECT_EQ(back->source().tags[1].type, ValueType::kRawJson);
  EXPECT_EQ(back->source().labels, b->source().labels);
  EXPECT_EQ(back->events()[0].message.size(), 23u);
  EXPECT_EQ(back->events()[0].find("neg")->value.i, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(back->events()[0].find("d")->value.d, -0.125);
  EXPECT_EQ(back->events()[0].find("n")->value.type, ValueType::kNull);
  EXPECT_EQ(BatchDecoder::weight(rec.substr(0, 16)), 2u);
}

TEST(BatchCodecTest, TheSourcesFilePathRoundTripsAndBlocksWithoutItStillDecode) {
  auto with_path = std::make_shared<SourceInfo>(*source());
  with_path->file_path = "/var/lib/docker/containers/abc/abc-json.log";
  const std::shared_ptr<const SourceInfo> sources[] = {with_path, source()};
  for (const auto& src : sources) {
    Batch b(src);
    b.add_event().message = b.copy("m");
    BatchEncoder enc;
    std::string rec;
    enc.encode(b, rec);
    BatchDecoder dec;
    auto decoded = dec.decode(rec);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
    BatchPtr back = std::move(decoded).value();
    EXPECT_EQ(back->source().file_path, src->file_path);
    EXPECT_EQ(back->source().labels, src->labels);
  }
}

TEST(BatchCodecTest, ConsecutiveBatchesOfOneSourceShareIt) {
  BatchPtr a = sample();
  auto b = std::make_unique<Batch>(a->source_ptr());
  b->add_event().message = b->copy("second");
  BatchEncoder enc;
  std::string ra, rb;
  enc.encode(*a, ra);
  enc.encode(*b, rb);
  BatchDecoder dec;
  auto ra_decoded = dec.decode(ra);
  auto rb_decoded = dec.decode(rb);
  ASSERT_TRUE(ra_decoded.is_ok()) << ra_decoded.status().message();
  ASSERT_TRUE(rb_decoded.is_ok()) << rb_decoded.status().message();
  const BatchPtr& da = ra_decoded.value();
  const BatchPtr& db = rb_decoded.value();
  EXPECT_EQ(da->source_ptr().get(), db->source_ptr().get());
  EXPECT_EQ(db->events()[0].message, "second");
}

TEST(BatchCodecTest, EveryTruncationAndByteFlipIsRejectedOrDecodesSafely) {
  BatchPtr b = sample();
  BatchEncoder enc;
  std::string rec;
  enc.encode(*b, rec);
  BatchDecoder dec;
  for (std::size_t n = 0; n < rec.size(); ++n) {
    EXPECT_FALSE(dec.decode(std::string_view(rec).substr(0, n)).is_ok()) << n;
  }
  // Flips may still decode (e.g. inside a message); they must never read out of bounds (ASan).
  for (std::size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] ^= 0x41;
    (void)dec.decode(bad);
  }
  std::string trailing = rec + "x";
  EXPECT_EQ(dec.decode(trailing).status().message(), "trailing bytes");
  std::string version = rec;
  version[4] = 9;
  EXPECT_EQ(dec.decode(version).status().message(), "unknown record version 9");
}

}  // namespace
}  // namespace logship
