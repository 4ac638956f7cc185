#include "daemon/buffer/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/spool-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/c1";
  }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }

  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> corrupt_{0};

  std::unique_ptr<Spool> open(SpoolOptions o = {}, uint64_t committed = 0) {
    o.dropped_counter = &dropped_;
    o.corrupt_counter = &corrupt_;
    auto r = Spool::open(dir_, o, committed);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return std::move(r).value();
  }
  static std::string rec(int i) { return "record-" + std::to_string(i) + std::string(i % 50, '.'); }
  static std::vector<std::string> read_all(const Spool& s, uint64_t from,
                                           std::vector<uint64_t>* offsets = nullptr) {
    SpoolReader r(s, true);
    std::vector<std::string> out;
    uint64_t cursor = from, at = 0;
    std::string_view p;
    while (r.next(&cursor, &at, &p)) {
      out.emplace_back(p);
      if (offsets) offsets->push_back(at);
    }
    return out;
  }
  std::vector<std::string> segments() const {
    std::vector<std::string> v;
    for (auto& e : fs::directory_iterator(dir_)) v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
  }
  std::string dir_;
};

TEST_F(SpoolTest, WrittenRecordsReadBackInOrderAcrossSegments) {
  SpoolOptions o;
  o.segment_bytes = 1024;
  auto s = open(o);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
  EXPECT_TRUE(read_all(*s, 0).empty());   // not flushed yet: invisible
  for (int i = 3; i < 300; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  auto got = read_all(*s, 0);
  ASSERT_EQ(got.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(got[i], rec(i));
  EXPECT_GT(segments().size(), 10u);
  EXPECT_EQ(s->end(), s->disk_bytes());
}

TEST_F(SpoolTest, ReplaysFromTheCommittedOffsetAfterRestart) {
  SpoolOptions o;
  o.segment_bytes = 1024;
  std::vector<uint64_t> offsets;
  {
    auto s = open(o);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
    ASSERT_TRUE(s->flush().is_ok());
    read_all(*s, 0, &offsets);
  }
  // The checkpoint says records 0..59 were delivered: a restart replays 60..99 only.
  auto s = open(o, offsets[60]);
  EXPECT_EQ(s->committed(), offsets[60]);
  auto got = read_all(*s, s->committed());
  ASSERT_EQ(got.size(), 40u);
  EXPECT_EQ(got.front(), rec(60));
  EXPECT_EQ(got.back(), rec(99));
  // Appends continue after the old end.
  const uint64_t end = s->end();
  ASSERT_EQ(s->append("after restart"), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  SpoolReader r(*s, true);
  uint64_t cursor = end, at;
  std::string_view p;
  ASSERT_TRUE(r.next(&cursor, &at, &p));
  EXPECT_EQ(p, "after restart");
  EXPECT_EQ(at, end);
}

TEST_F(SpoolTest, AnEmptyDirectoryStartsAtTheCheckpoint) {
  auto s = open({}, 12345);
  EXPECT_EQ(s->begin(), 12345u);
  EXPECT_EQ(s->end(), 12345u);
  ASSERT_EQ(s->append("x"), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  EXPECT_EQ(s->end(), 12345u + kRecordHeader + 1);
}

TEST_F(SpoolTest, TornTailIsCutAtOpenAndCounted) {
  std::string last_seg;
  uint64_t good_end;
  {
    auto s = open();
    for (int i = 0; i < 10; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
    ASSERT_TRUE(s->flush().is_ok());
    good_end = s->end();
  }
  last_seg = segments().back();
  {
    // A crash mid-write: a header announcing 100 bytes, then only 5 of them.
    int fd = ::open(last_seg.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    const char torn[] = "\x64\x00\x00\x00\x01\x02\x03\x04hello";
    ASSERT_EQ(::write(fd, torn, 13), 13);
    ::close(fd);
  }
  auto s = open();
  EXPECT_EQ(s->stats().torn_tail_bytes, 13u);
  EXPECT_EQ(corrupt_.load(), 1u);
  EXPECT_EQ(s->end(), good_end);
  EXPECT_EQ(fs::file_size(last_seg), good_end);
  ASSERT_EQ(s->append("next"), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  auto got = read_all(*s, 0);
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(got[9], rec(9));
  EXPECT_EQ(got[10], "next");
}

TEST_F(SpoolTest, CrcMismatchSkipsExactlyTheBadRecord) {
  auto s = open();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  std::vector<uint64_t> offsets;
  read_all(*s, 0, &offsets);
  // Flip one payload byte of record 7 on disk.
  int fd = ::open(segments().front().c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offsets[7] + kRecordHeader + 2)), 1);
  c ^= 0x20;
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offsets[7] + kRecordHeader + 2)), 1);
  ::close(fd);
  auto got = read_all(*s, 0);
  ASSERT_EQ(got.size(), 19u);
  EXPECT_EQ(got[6], rec(6));
  EXPECT_EQ(got[7], rec(8));
  EXPECT_EQ(s->stats().corrupt_regions, 1u);
  EXPECT_EQ(s->stats().corrupt_bytes, offsets[8] - offsets[7]);
  // A reader that does not count (ReadLogs) skips it too, without counting again.
  SpoolReader quiet(*s, false);
  uint64_t cursor = 0, at;
  std::string_view p;
  int n = 0;
  while (quiet.next(&cursor, &at, &p)) ++n;
  EXPECT_EQ(n, 19);
  EXPECT_EQ(s->stats().corrupt_regions, 1u);
}

TEST_F(SpoolTest, CorruptLengthResyncsAtTheNextGoodRecord) {
  auto s = open();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s->append(rec(i)), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  std::vector<uint64_t> offsets;
  read_all(*s, 0, &offsets);
  int fd = ::open(segments().front().c_str(), O_RDWR);
  const char garbage[4] = {'\x10', '\x00', '\x00', '\x00'};   // length 16: wrong
  ASSERT_EQ(::pwrite(fd, garbage, 4, static_cast<off_t>(offsets[2])), 4);
  ::close(fd);
  auto got = read_all(*s, 0);
  EXPECT_EQ(got, (std::vector<std::string>{rec(0), rec(1), rec(3), rec(4)}));
}

TEST_F(SpoolTest, BlockPolicyRefusesWhenFullAndAcceptsAfterCommit) {
  SpoolOptions o;
  o.max_bytes = 1000;
  o.segment_bytes = 256;
  o.when_full = FullPolicy::kBlock;
  o.keep_bytes = 1 << 20;   // delivered data stays readable (ReadLogs)
  auto s = open(o);
  const std::string payload(92, 'p');   // 100 bytes a record
  for (int i = 0; i < 10; ++i) ASSERT_EQ(s->append(payload), Spool::Append::kOk) << i;
  EXPECT_FALSE(s->has_room(payload.size()));
  EXPECT_EQ(s->append(payload), Spool::Append::kFull);
  EXPECT_EQ(s->unacked_bytes(), 1000u);
  EXPECT_EQ(s->append(payload, /*force=*/true), Spool::Append::kOk);   // StopLogging drain
  ASSERT_TRUE(s->flush().is_ok());
  s->commit(500);
  EXPECT_TRUE(s->has_room(payload.size()));
  EXPECT_EQ(s->append(payload), Spool::Append::kOk);
  EXPECT_EQ(s->stats().dropped_records, 0u);
  ASSERT_TRUE(s->flush().is_ok());
  EXPECT_EQ(read_all(*s, 0).size(), 12u);
}

TEST_F(SpoolTest, BlockPolicyAcceptsARecordLargerThanTheBoundWhenEmpty) {
  SpoolOptions o;
  o.max_bytes = 100;
  auto s = open(o);
  // Otherwise a line longer than the bound would hold the FIFO forever.
  EXPECT_EQ(s->append(std::string(500, 'x')), Spool::Append::kOk);
  EXPECT_EQ(s->append("y"), Spool::Append::kFull);
  ASSERT_TRUE(s->flush().is_ok());
  s->commit(s->end());
  EXPECT_EQ(s->append("y"), Spool::Append::kOk);
}

TEST_F(SpoolTest, DropOldestKeepsTheNewestAndCountsWhatWent) {
  SpoolOptions o;
  o.max_bytes = 2000;
  o.segment_bytes = 500;
  o.when_full = FullPolicy::kDropOldest;
  auto s = open(o);
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    std::string p = "drop-" + std::to_string(1000 + i) + std::string(32, '.');
    ASSERT_EQ(s->append(p), Spool::Append::kOk);
  }
  ASSERT_TRUE(s->flush().is_ok());
  EXPECT_LE(s->unacked_bytes(), o.max_bytes);
  auto got = read_all(*s, 0);
  const uint64_t dropped = s->stats().dropped_records;
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(got.size() + dropped, static_cast<uint64_t>(n));
  EXPECT_EQ(dropped_.load(), dropped);
  // What is left is the newest suffix, in order.
  for (std::size_t k = 0; k < got.size(); ++k) {
    EXPECT_EQ(got[k].substr(0, 9), "drop-" + std::to_string(1000 + n - got.size() + k));
  }
  EXPECT_EQ(s->committed(), s->begin());   // dropped data counts as gone, not pending
}

TEST_F(SpoolTest, DeliveredSegmentsAreKeptUpToKeepBytes) {
  SpoolOptions o;
  o.segment_bytes = 1000;
  o.keep_bytes = 2500;
  auto s = open(o);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(s->append(std::string(92, 'k')), Spool::Append::kOk);
  ASSERT_TRUE(s->flush().is_ok());
  EXPECT_EQ(s->disk_bytes(), 10000u);
  s->commit(s->end());
  // Every segment but the active one is delivered; the newest 2 fit in keep_bytes.
  EXPECT_EQ(s->disk_bytes(), 3000u);
  EXPECT_EQ(s->begin(), 7000u);
  EXPECT_EQ(read_all(*s, s->begin()).size(), 30u);   // ReadLogs still sees them
  EXPECT_EQ(segments().size(), 3u);
}

}  // namespace
}  // namespace logship
