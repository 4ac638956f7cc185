// fsck's spool check finds exactly the damage a reader would skip or open would cut, and its
// repair takes it out while every other record keeps its offset.
#include "daemon/buffer/spool_check.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "daemon/buffer/spool.h"

namespace logship {
namespace {

namespace fs = std::filesystem;

class SpoolCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/spool-check-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = std::string(tmpl) + "/out";
  }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }

  static std::string rec(int i) { return "record-" + std::to_string(i) + std::string(i % 30, '.'); }

  // Writes n records over segments of about `segment` bytes; returns each record's offset.
  std::vector<uint64_t> write(int n, uint64_t segment) {
    SpoolOptions o;
    o.segment_bytes = segment;
    auto s = Spool::open(dir_, o, 0);
    EXPECT_TRUE(s.is_ok());
    for (int i = 0; i < n; ++i) EXPECT_EQ(s.value()->append_now(rec(i)), Spool::Append::kOk);
    std::vector<uint64_t> at;
    SpoolReader r(*s.value(), false);
    uint64_t cursor = 0, a = 0;
    std::string_view p;
    while (r.next(&cursor, &a, &p)) at.push_back(a);
    return at;
  }
  std::vector<std::string> segments() const {
    std::vector<std::string> v;
    for (auto& e : fs::directory_iterator(dir_)) v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
  }
  void flip(const std::string& seg, uint64_t pos) {
    int fd = ::open(seg.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(pos)), 1);
    c ^= 0x01;
    ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(pos)), 1);
    ::close(fd);
  }
  void append_bytes(const std::string& seg, const std::string& bytes) {
    int fd = ::open(seg.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  // Every record as the daemon reads it after open, with offsets.
  std::vector<std::pair<uint64_t, std::string>> read_back(uint64_t* corrupt_regions) {
    auto s = Spool::open(dir_, SpoolOptions{}, 0);
    EXPECT_TRUE(s.is_ok());
    std::vector<std::pair<uint64_t, std::string>> out;
    SpoolReader r(*s.value(), true);
    uint64_t cursor = 0, a = 0;
    std::string_view p;
    while (r.next(&cursor, &a, &p)) out.emplace_back(a, std::string(p));
    *corrupt_regions = s.value()->stats().corrupt_regions;
    return out;
  }
  std::string dir_;
};

TEST_F(SpoolCheckTest, ACleanSpoolCountsRecordsAndWhatIsUndelivered) {
  const auto at = write(100, 1024);
  std::vector<uint64_t> seen;
  auto c = check_spool(dir_, at[60], [&](uint64_t a, std::string_view) { seen.push_back(a); });
  ASSERT_TRUE(c.is_ok()) << c.status().message();
  EXPECT_EQ(c.value().records, 100u);
  EXPECT_EQ(c.value().segments, segments().size());
  EXPECT_GT(c.value().segments, 2u);
  EXPECT_TRUE(c.value().damage.empty());
  EXPECT_EQ(c.value().undelivered_records, 40u);
  EXPECT_EQ(seen, std::vector<uint64_t>(at.begin() + 60, at.end()));
}

TEST_F(SpoolCheckTest, FindsAndRepairsACorruptRecordInsideASegmentAndATornTail) {
  const auto at = write(100, 1 << 20);   // one segment
  ASSERT_EQ(segments().size(), 1u);
  const std::string seg = segments().front();
  flip(seg, at[40] + kRecordHeader + 3);     // record 40's payload
  append_bytes(seg, std::string("\x30\x00\x00\x00garbage", 11));   // a torn record
  auto c = check_spool(dir_, 0);
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c.value().damage.size(), 2u);
  EXPECT_EQ(c.value().damage[0].offset, at[40]);
  EXPECT_EQ(c.value().damage[0].bytes, at[41] - at[40]);
  EXPECT_FALSE(c.value().damage[0].tail);
  EXPECT_EQ(c.value().damage[1].bytes, 11u);
  EXPECT_TRUE(c.value().damage[1].tail);
  EXPECT_EQ(c.value().records, 99u);

  auto fixed = repair_spool(c.value());
  ASSERT_TRUE(fixed.is_ok()) << fixed.status().message();
  EXPECT_EQ(fixed.value().size(), 3u);   // tail cut; record 40 cut, the rest moved
  auto again = check_spool(dir_, 0);
  ASSERT_TRUE(again.is_ok());
  EXPECT_TRUE(again.value().damage.empty());
  EXPECT_EQ(again.value().records, 99u);
  EXPECT_EQ(segments().size(), 2u);
  // The daemon reads every other record at its old offset and finds nothing to skip.
  uint64_t corrupt = 99;
  const auto got = read_back(&corrupt);
  EXPECT_EQ(corrupt, 0u);
  ASSERT_EQ(got.size(), 99u);
  for (int i = 0, j = 0; i < 100; ++i) {
    if (i == 40) continue;
    EXPECT_EQ(got[j].first, at[i]);
    EXPECT_EQ(got[j].second, rec(i));
    ++j;
  }
}

TEST_F(SpoolCheckTest, DamageAtTheEndOfAnEarlierSegmentIsCut) {
  const auto at = write(60, 512);
  const auto segs = segments();
  ASSERT_GT(segs.size(), 2u);
  // Corrupt the last record of the first segment: damage running to that segment's end.
  std::size_t last_in_first = 0;
  const uint64_t second_base = std::stoull(fs::path(segs[1]).stem().string());
  while (last_in_first + 1 < at.size() && at[last_in_first + 1] < second_base) ++last_in_first;
  flip(segs[0], at[last_in_first] + 2);   // its length field
  auto c = check_spool(dir_, 0);
  ASSERT_TRUE(c.is_ok());
  ASSERT_EQ(c.value().damage.size(), 1u);
  EXPECT_TRUE(c.value().damage[0].tail);
  EXPECT_EQ(c.value().damage[0].segment, segs[0]);
  ASSERT_TRUE(repair_spool(c.value()).is_ok());
  uint64_t corrupt = 99;
  const auto got = read_back(&corrupt);
  EXPECT_EQ(corrupt, 0u);
  EXPECT_EQ(got.size(), 59u);
}

}  // namespace
}  // namespace logship
