#include "inputs/docker_plugin/merger.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace logship::docker_plugin {
namespace {

struct Out {
  int64_t time;
  Stream stream;
  bool truncated;
  std::string text;
  bool operator==(const Out&) const = default;
};

class MergerTest : public ::testing::Test {
 protected:
  explicit MergerTest(std::size_t max_line = 1 << 20) : m_(max_line) {}
  void add(std::string_view line, int64_t t = 1, bool partial = false, bool meta = false,
           bool last = false, std::string_view id = "", std::string_view source = "stdout") {
    LogEntryView e;
    e.source = source;
    e.time_nano = t;
    e.line = line;
    e.partial = partial;
    e.has_partial_meta = meta;
    e.last = last;
    e.partial_id = id;
    m_.add(e, [&](const MergedLine& l) {
      out_.push_back(Out{l.time_ns, l.stream, l.truncated, std::string(l.text)});
      terminated_.push_back(l.terminated);
    });
  }
  void chunk(std::string_view line, std::string_view id, bool last, int64_t t = 1) {
    add(line, t, true, true, last, id);
  }
  void finish() {
    m_.finish([&](const MergedLine& l) {
      out_.push_back(Out{l.time_ns, l.stream, l.truncated, std::string(l.text)});
      terminated_.push_back(l.terminated);
    });
  }
  PartialMerger m_;
  std::vector<Out> out_;
  std::vector<bool> terminated_;   // per line in out_: its newline was written
};

// `docker logs` prints a line's newline only if the container wrote it: a whole entry or a last
// chunk ends with one; a line still open when the stream ends (the program's final output without
// newline) or cut short by another line does not.
TEST_F(MergerTest, OnlyLinesCompletedByTheirLastEntryAreTerminated) {
  add("whole", 1);
  chunk("big-", "id1", false, 2);
  chunk("end", "id1", true, 2);
  chunk("cut ", "id2", false, 3);
  add("next", 4);
  chunk("no newline", "id3", false, 5);
  finish();
  ASSERT_EQ(out_.size(), 5u);
  EXPECT_EQ(terminated_, (std::vector<bool>{true, true, false, true, false}));
  EXPECT_EQ(out_[4].text, "no newline");
  EXPECT_TRUE(out_[4].truncated);
}

TEST_F(MergerTest, WholeEntriesPassThrough) {
  add("a", 5, false, false, false, "", "stderr");
  add("b", 6);
  EXPECT_EQ(out_, (std::vector<Out>{{5, Stream::kStderr, false, "a"},
                                    {6, Stream::kStdout, false, "b"}}));
  EXPECT_FALSE(m_.open());
}

TEST_F(MergerTest, ChunksJoinOnTheLastOneWithTheFirstTime) {
  chunk("one ", "id1", false, 10);
  chunk("two ", "id1", false, 10);
  EXPECT_TRUE(out_.empty());
  EXPECT_TRUE(m_.open());
  chunk("three", "id1", true, 10);
  EXPECT_EQ(out_, (std::vector<Out>{{10, Stream::kStdout, false, "one two three"}}));
  EXPECT_FALSE(m_.open());
}

TEST_F(MergerTest, ASingleChunkWithLastIsALine) {
  chunk("only", "x", true, 3);
  EXPECT_EQ(out_, (std::vector<Out>{{3, Stream::kStdout, false, "only"}}));
}

TEST_F(MergerTest, LegacyPartialWithoutMetadataEndsAtTheNextWholeEntry) {
  add("legacy-a ", 1, true);
  add("legacy-b ", 2, true);
  add("legacy-c", 3);
  EXPECT_EQ(out_, (std::vector<Out>{{1, Stream::kStdout, false, "legacy-a legacy-b legacy-c"}}));
}

TEST_F(MergerTest, ANewLineBeforeTheLastChunkClosesTheOldOneTruncated) {
  chunk("lost its end", "id1", false, 1);
  chunk("other ", "id2", false, 2);
  chunk("line", "id2", true, 2);
  add("whole", 3);
  EXPECT_EQ(out_, (std::vector<Out>{{1, Stream::kStdout, true, "lost its end"},
                                    {2, Stream::kStdout, false, "other line"},
                                    {3, Stream::kStdout, false, "whole"}}));
}

TEST_F(MergerTest, AWholeEntryInsideAChunkedLineClosesIt) {
  chunk("cut", "id1", false, 1);
  add("whole", 2);
  EXPECT_EQ(out_, (std::vector<Out>{{1, Stream::kStdout, true, "cut"},
                                    {2, Stream::kStdout, false, "whole"}}));
}

TEST_F(MergerTest, FinishEmitsAnOpenLineTruncated) {
  finish();
  EXPECT_TRUE(out_.empty());
  chunk("half", "id", false, 9);
  finish();
  EXPECT_EQ(out_, (std::vector<Out>{{9, Stream::kStdout, true, "half"}}));
  EXPECT_FALSE(m_.open());
}

TEST_F(MergerTest, LargeLinesMergeByteExactly) {
  std::string line;
  for (int i = 0; i < (1 << 20) - 5; ++i) line.push_back(static_cast<char>(i * 131));
  for (std::size_t pos = 0; pos < line.size(); pos += 16384) {
    chunk(std::string_view(line).substr(pos, 16384), "big", pos + 16384 >= line.size(), 7);
  }
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_FALSE(out_[0].truncated);
  EXPECT_EQ(out_[0].text, line);
}

class SmallMergerTest : public MergerTest {
 protected:
  SmallMergerTest() : MergerTest(10) {}
};

TEST_F(SmallMergerTest, LinesOverMaxLineAreCutAndMarked) {
  chunk("0123456", "a", false);
  chunk("789abcdef", "a", true);
  add("0123456789XYZ", 2);
  add("0123456789", 3);
  EXPECT_EQ(out_, (std::vector<Out>{{1, Stream::kStdout, true, "0123456789"},
                                    {2, Stream::kStdout, true, "0123456789"},
                                    {3, Stream::kStdout, false, "0123456789"}}));
}

}  // namespace
}  // namespace logship::docker_plugin
