#include "inputs/journald/entry_mapper.h"

#include <gtest/gtest.h>

#include <map>

namespace logship::plugins::journald {
namespace {

// One entry as sd-journal hands it out: "FIELD=value" items, a realtime and a cursor.
class FakeEntry final : public EntrySource {
 public:
  FakeEntry(std::vector<std::string> items, uint64_t realtime, std::string cursor)
      : items_(std::move(items)), realtime_(realtime), cursor_(std::move(cursor)) {}
  void restart_data() override { i_ = 0; }
  bool next_data(std::string_view* item) override {
    if (i_ >= items_.size()) return false;
    // Like sd-journal, the view is only valid until the next call: hand out a scratch copy.
    scratch_ = items_[i_++];
    *item = scratch_;
    return true;
  }
  uint64_t realtime_usec() const override { return realtime_; }
  std::string cursor() const override { return cursor_; }

 private:
  std::vector<std::string> items_;
  uint64_t realtime_;
  std::string cursor_;
  std::size_t i_ = 0;
  std::string scratch_;
};

std::map<std::string, std::string> fields_of(const Event& e) {
  std::map<std::string, std::string> m;
  for (const Field& f : e.fields) {
    m[std::string(f.key)] = f.value.type == ValueType::kInt ? "int:" + std::to_string(f.value.i)
                                                            : std::string(f.value.s);
  }
  return m;
}

class EntryMapperTest : public ::testing::Test {
 protected:
  Batch batch_{std::make_shared<SourceInfo>()};
  TimePoint now_ = SteadyClock::now();
};

TEST_F(EntryMapperTest, MapsTheStandardFieldsAndPrefersTheSourceTimestamp) {
  EntryMapper m(MapperOptions{});
  FakeEntry e({"_PID=42", "MESSAGE=hello", "PRIORITY=3", "SYSLOG_IDENTIFIER=app",
               "_SYSTEMD_UNIT=app.service", "_HOSTNAME=h1", "_BOOT_ID=b00t",
               "_SOURCE_REALTIME_TIMESTAMP=1700000000000123", "_COMM=app", "CODE_LINE=7"},
              1700000000999999, "c1");
  ASSERT_TRUE(m.map(e, batch_, now_));
  ASSERT_EQ(batch_.size(), 1u);
  const Event& ev = batch_.events()[0];
  EXPECT_EQ(ev.message, "hello");
  EXPECT_EQ(ev.time_ns, 1700000000000123000LL);
  EXPECT_EQ(ev.stream, Stream::kNone);
  EXPECT_EQ(fields_of(ev), (std::map<std::string, std::string>{{"severity", "err"},
                                                               {"syslog_identifier", "app"},
                                                               {"unit", "app.service"},
                                                               {"pid", "int:42"},
                                                               {"hostname", "h1"},
                                                               {"boot_id", "b00t"}}));
  EXPECT_EQ(m.oldest_held_cursor(), nullptr);
}

TEST_F(EntryMapperTest, FallsBackToTheEntryTimeAndKeepsBinaryBytes) {
  EntryMapper m(MapperOptions{});
  std::string binary("MESSAGE=a\nb\0c\xff", 15);
  FakeEntry e({binary, "PRIORITY=99"}, 1700000000000007, "c1");
  ASSERT_TRUE(m.map(e, batch_, now_));
  const Event& ev = batch_.events()[0];
  EXPECT_EQ(ev.message, std::string_view("a\nb\0c\xff", 7));
  EXPECT_EQ(ev.time_ns, 1700000000000007000LL);
  EXPECT_EQ(fields_of(ev), (std::map<std::string, std::string>{{"severity", "99"}}));
}

TEST_F(EntryMapperTest, ChosenOrAllFieldsWithOptionalTrustedOnes) {
  const std::vector<std::string> items = {"MESSAGE=m", "CODE_LINE=7", "X=1", "_COMM=app"};
  {
    EntryMapper m(MapperOptions{{"CODE_LINE", "_COMM"}, false, false});
    FakeEntry e(items, 1, "c");
    m.map(e, batch_, now_);
    EXPECT_EQ(fields_of(batch_.events().back()),
              (std::map<std::string, std::string>{{"CODE_LINE", "7"}, {"_COMM", "app"}}));
  }
  {
    EntryMapper m(MapperOptions{{}, true, false});
    FakeEntry e(items, 1, "c");
    m.map(e, batch_, now_);
    EXPECT_EQ(fields_of(batch_.events().back()),
              (std::map<std::string, std::string>{{"CODE_LINE", "7"}, {"X", "1"}}));
  }
  {
    EntryMapper m(MapperOptions{{}, true, true});
    FakeEntry e(items, 1, "c");
    m.map(e, batch_, now_);
    EXPECT_EQ(fields_of(batch_.events().back()),
              (std::map<std::string, std::string>{
                  {"CODE_LINE", "7"}, {"X", "1"}, {"_COMM", "app"}}));
  }
}

TEST_F(EntryMapperTest, DockerFieldsBecomeTheContainerFieldsAndStream) {
  EntryMapper m(MapperOptions{});
  FakeEntry out({"MESSAGE=o", "PRIORITY=6", "CONTAINER_ID=0123456789ab",
                 "CONTAINER_ID_FULL=0123456789ab" + std::string(52, 'f'), "CONTAINER_NAME=web",
                 "CONTAINER_TAG=tag1", "IMAGE_NAME=nginx:1.25", "SYSLOG_IDENTIFIER=tag1"},
                1, "c1");
  FakeEntry err({"MESSAGE=e", "PRIORITY=3", "CONTAINER_ID=0123456789ab"}, 2, "c2");
  m.map(out, batch_, now_);
  m.map(err, batch_, now_);
  ASSERT_EQ(batch_.size(), 2u);
  EXPECT_EQ(batch_.events()[0].stream, Stream::kStdout);
  EXPECT_EQ(fields_of(batch_.events()[0]),
            (std::map<std::string, std::string>{
                {"severity", "info"},
                {"syslog_identifier", "tag1"},
                {"container_id", "0123456789ab" + std::string(52, 'f')},
                {"container_name", "web"},
                {"image", "nginx:1.25"},
                {"container_tag", "tag1"}}));
  EXPECT_EQ(batch_.events()[1].stream, Stream::kStderr);
  EXPECT_EQ(fields_of(batch_.events()[1]),
            (std::map<std::string, std::string>{{"severity", "err"},
                                                {"container_id", "0123456789ab"}}));
}

TEST_F(EntryMapperTest, PartialsOfInterleavedContainersMergeAndHoldTheCursor) {
  EntryMapper m(MapperOptions{});
  auto part = [](std::string cid, std::string msg, uint64_t t, std::string cursor) {
    return FakeEntry({"MESSAGE=" + msg, "PRIORITY=6", "CONTAINER_ID=" + cid,
                      "CONTAINER_PARTIAL_MESSAGE=true"},
                     t, std::move(cursor));
  };
  auto last = [](std::string cid, std::string msg, uint64_t t, std::string cursor) {
    return FakeEntry({"MESSAGE=" + msg, "PRIORITY=6", "CONTAINER_ID=" + cid}, t,
                     std::move(cursor));
  };
  auto a1 = part("a", "A1-", 10, "ca1");
  auto b0 = last("b", "B0", 11, "cb0");
  auto a2 = part("a", "A2-", 12, "ca2");
  auto b1 = part("b", "B1-", 13, "cb1");
  auto a3 = last("a", "A3", 15, "ca3");
  auto b2 = last("b", "B2", 16, "cb2");
  EXPECT_FALSE(m.map(a1, batch_, now_));
  ASSERT_NE(m.oldest_held_cursor(), nullptr);
  EXPECT_EQ(*m.oldest_held_cursor(), "ca1");
  EXPECT_TRUE(m.map(b0, batch_, now_));
  EXPECT_FALSE(m.map(a2, batch_, now_));
  EXPECT_FALSE(m.map(b1, batch_, now_));
  EXPECT_EQ(*m.oldest_held_cursor(), "ca1");
  // Same container, other stream (stderr): not part of a's stdout line.
  FakeEntry err({"MESSAGE=E", "PRIORITY=3", "CONTAINER_ID=a"}, 14, "ce");
  EXPECT_TRUE(m.map(err, batch_, now_));
  EXPECT_TRUE(m.map(a3, batch_, now_));
  ASSERT_NE(m.oldest_held_cursor(), nullptr);
  EXPECT_EQ(*m.oldest_held_cursor(), "cb1");
  EXPECT_TRUE(m.map(b2, batch_, now_));
  EXPECT_EQ(m.oldest_held_cursor(), nullptr);
  ASSERT_EQ(batch_.size(), 4u);
  EXPECT_EQ(batch_.events()[0].message, "B0");
  EXPECT_EQ(batch_.events()[1].message, "E");
  EXPECT_EQ(batch_.events()[2].message, "A1-A2-A3");
  EXPECT_EQ(batch_.events()[2].time_ns, 10000);   // the first part's time
  EXPECT_EQ(batch_.events()[3].message, "B1-B2");
  EXPECT_EQ(batch_.events()[3].time_ns, 13000);
  EXPECT_EQ(m.merged_lines(), 2u);
}

TEST_F(EntryMapperTest, UnfinishedLinesAreEmittedAfterTheTimeout) {
  MapperOptions o;
  o.partial_timeout = std::chrono::milliseconds(500);
  EntryMapper m(o);
  FakeEntry p({"MESSAGE=half", "PRIORITY=3", "CONTAINER_ID=a", "CONTAINER_NAME=web",
               "CONTAINER_PARTIAL_MESSAGE=true"},
              7, "cp");
  EXPECT_FALSE(m.map(p, batch_, now_));
  EXPECT_EQ(m.flush_expired(batch_, now_ + std::chrono::milliseconds(499), false), 0u);
  EXPECT_EQ(m.flush_expired(batch_, now_ + std::chrono::milliseconds(500), false), 1u);
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_.events()[0].message, "half");
  EXPECT_EQ(batch_.events()[0].stream, Stream::kStderr);
  EXPECT_EQ(fields_of(batch_.events()[0]),
            (std::map<std::string, std::string>{
                {"severity", "err"}, {"container_id", "a"}, {"container_name", "web"}}));
  EXPECT_EQ(m.oldest_held_cursor(), nullptr);
  EXPECT_EQ(m.timed_out_lines(), 1u);
}

TEST_F(EntryMapperTest, AJoinedLineIsCutAtTheMaximumSize) {
  MapperOptions o;
  o.partial_max_size = 10;
  EntryMapper m(o);
  auto part = [](std::string msg) {
    return FakeEntry({"MESSAGE=" + msg, "CONTAINER_ID=a", "CONTAINER_PARTIAL_MESSAGE=true"}, 1,
                     "c");
  };
  auto p1 = part("12345");
  auto p2 = part("67890");
  auto p3 = part("abc");
  FakeEntry end({"MESSAGE=def", "CONTAINER_ID=a"}, 1, "c");
  EXPECT_FALSE(m.map(p1, batch_, now_));
  EXPECT_TRUE(m.map(p2, batch_, now_));
  EXPECT_FALSE(m.map(p3, batch_, now_));
  EXPECT_TRUE(m.map(end, batch_, now_));
  ASSERT_EQ(batch_.size(), 2u);
  EXPECT_EQ(batch_.events()[0].message, "1234567890");
  EXPECT_EQ(batch_.events()[1].message, "abcdef");
}

}  // namespace
}  // namespace logship::plugins::journald

namespace logship::plugins::journald {
namespace {

// What held partial lines take is what journald charges to the memory budget
// (journald_partial_lines): it grows with the held parts and is nothing once they are emitted.
TEST_F(EntryMapperTest, HeldBytesFollowTheHeldPartialLines) {
  EntryMapper m(MapperOptions{});
  EXPECT_EQ(m.held_lines(), 0u);
  const std::string chunk(4000, 'p');
  FakeEntry a1({"MESSAGE=" + chunk, "PRIORITY=6", "CONTAINER_ID=a",
                "CONTAINER_PARTIAL_MESSAGE=true"}, 10, "ca1");
  FakeEntry a2({"MESSAGE=" + chunk, "PRIORITY=6", "CONTAINER_ID=a",
                "CONTAINER_PARTIAL_MESSAGE=true"}, 11, "ca2");
  FakeEntry a3({"MESSAGE=end", "PRIORITY=6", "CONTAINER_ID=a"}, 12, "ca3");
  EXPECT_FALSE(m.map(a1, batch_, now_));
  const std::size_t one = m.held_bytes();
  EXPECT_GE(one, chunk.size());
  EXPECT_FALSE(m.map(a2, batch_, now_));
  EXPECT_GE(m.held_bytes(), 2 * chunk.size());
  EXPECT_GT(m.held_bytes(), one);
  EXPECT_TRUE(m.map(a3, batch_, now_));
  EXPECT_EQ(m.held_lines(), 0u);
  ASSERT_EQ(batch_.size(), 1u);
  EXPECT_EQ(batch_.events()[0].message.size(), 2 * chunk.size() + 3);
}

}  // namespace
}  // namespace logship::plugins::journald
