#include "outputs/elasticsearch/bulk_encoder.h"

#include <gtest/gtest.h>

#include <set>

namespace logship::plugins::es {
namespace {

// 2024-05-01T10:00:00.123456789Z
constexpr int64_t kTime = 1714557600123456789;

std::shared_ptr<SourceInfo> source(std::string key) {
  auto s = std::make_shared<SourceInfo>();
  s->input = "Docker";
  s->key = std::move(key);
  s->tags.push_back(Tag{"container_name", ValueType::kString, "Shop API/1"});
  return s;
}

Event& add(Batch& b, int64_t t, uint64_t offset, std::string_view msg) {
  Event& e = b.add_event();
  e.time_ns = t;
  e.offset = offset;
  e.stream = Stream::kStdout;
  e.message = b.copy(msg);
  return e;
}

TEST(BulkEncoder, IndexActionTemplatedIndexAndTimestamp) {
  auto src = source("a");
  Batch b(src);
  add(b, kTime, 16, "hello \"world\"");
  BulkEncoder enc({"logs-{container_name}-%Y.%m.%d", BulkAction::kIndex, false});
  std::string out;
  enc.begin_source(*src);
  enc.append(out, b.events()[0], *src);
  EXPECT_EQ(out,
            "{\"index\":{\"_index\":\"logs-shop_api_1-2024.05.01\"}}\n"
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"stream\":\"stdout\","
            "\"message\":\"hello \\\"world\\\"\",\"container_name\":\"Shop API/1\"}\n");
}

TEST(BulkEncoder, CreateWithDeterministicId) {
  auto src = source("a");
  Batch b(src);
  add(b, kTime, 16, "x");
  add(b, kTime, 0x41a20, "y");
  BulkEncoder enc({"logs-{input}", BulkAction::kCreate, true});
  std::string out;
  enc.begin_source(*src);
  for (const Event& e : b.events()) enc.append(out, e, *src);
  // FNV-1a 64 of "a" is af63dc4c8601ec8c; the last part hashes time and message. Pinned: ids
  // that changed between versions would duplicate what a restart after an upgrade re-sends.
  EXPECT_EQ(out,
            "{\"create\":{\"_index\":\"logs-docker\",\"_id\":\"af63dc4c8601ec8c-0000000000000010-5694c87c\"}}\n"
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"stream\":\"stdout\","
            "\"message\":\"x\",\"container_name\":\"Shop API/1\"}\n"
            "{\"create\":{\"_index\":\"logs-docker\",\"_id\":\"af63dc4c8601ec8c-0000000000041a20-6bd6fce9\"}}\n"
            "{\"@timestamp\":\"2024-05-01T10:00:00.123456789Z\",\"stream\":\"stdout\","
            "\"message\":\"y\",\"container_name\":\"Shop API/1\"}\n");
}

TEST(BulkEncoder, IdsDifferBySourceOffsetAndContentAndAreStable) {
  auto src = source("k");
  Batch b(src);
  add(b, kTime, 100, "line");
  add(b, kTime, 100, "line");       // the same event read again (retry, restart)
  add(b, kTime, 101, "line");       // another offset
  add(b, kTime + 1, 100, "line");   // same key and offset, other time: a reused inode
  add(b, kTime, 100, "lime");       // or other text: a file restarted by copytruncate
  auto id = [&](const std::string& key, int i) {
    std::string out;
    BulkEncoder::append_id(out, BulkEncoder::hash_key(key), b.events()[i]);
    return out;
  };
  EXPECT_EQ(id("src-1", 0), id("src-1", 1));
  EXPECT_NE(id("src-1", 0), id("src-2", 0));
  EXPECT_NE(id("src-1", 0), id("src-1", 2));
  EXPECT_NE(id("src-1", 0), id("src-1", 3));
  EXPECT_NE(id("src-1", 0), id("src-1", 4));
  EXPECT_EQ(id("src-1", 0).size(), 16u + 1 + 16 + 1 + 8);
  EXPECT_EQ(id("src-1", 0).substr(16, 18), "-0000000000000064-");
  EXPECT_EQ(BulkEncoder::hash_key(""), 0xcbf29ce484222325ull);
  // Every message length takes the tail path (no read past the message, ASan checks).
  std::string m(40, 'a');
  std::set<uint32_t> seen;
  for (std::size_t n = 0; n <= m.size(); ++n) {
    seen.insert(BulkEncoder::hash_content(kTime, std::string_view(m).substr(0, n)));
  }
  EXPECT_EQ(seen.size(), m.size() + 1);
}

TEST(BulkEncoder, DateChangesWithEventTimeAndFieldsPerEvent) {
  auto src = source("k");
  Batch b(src);
  Event& e1 = add(b, kTime, 1, "a");
  e1.set("level", Value::string("WARN"));
  Event& e2 = add(b, kTime + 86400ll * 1000000000, 2, "b");
  e2.set("level", Value::string("info"));
  add(b, kTime, 3, "c");   // no level field
  BulkEncoder enc({"app-{level}-%Y.%m.%d", BulkAction::kIndex, false});
  std::string out;
  enc.begin_source(*src);
  for (const Event& e : b.events()) enc.append(out, e, *src);
  EXPECT_NE(out.find("{\"index\":{\"_index\":\"app-warn-2024.05.01\"}}\n"), std::string::npos);
  EXPECT_NE(out.find("{\"index\":{\"_index\":\"app-info-2024.05.02\"}}\n"), std::string::npos);
  EXPECT_NE(out.find("{\"index\":{\"_index\":\"app-unknown-2024.05.01\"}}\n"), std::string::npos);
  EXPECT_NE(out.find("\"level\":\"WARN\"}\n"), std::string::npos);
}

TEST(BulkEncoder, TemplateLiteralsAndPercent) {
  IndexTemplate t("x-%%-%H{stream}");
  auto src = source("k");
  Batch b(src);
  Event& e = add(b, kTime, 0, "m");
  std::string out;
  t.render(e, *src, &out);
  EXPECT_EQ(out, "x-%-10stdout");
  EXPECT_TRUE(t.has_time());
}

}  // namespace
}  // namespace logship::plugins::es
