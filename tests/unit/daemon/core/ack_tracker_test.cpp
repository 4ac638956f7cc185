#include "daemon/core/ack.h"

#include <gtest/gtest.h>

namespace logship {
namespace {

struct RecordingSink : CommitSink {
  std::vector<Position> commits;
  void commit(const std::string&, const Position& p) override { commits.push_back(p); }
};

TEST(AckTrackerTest, CommitsOnlyTheContiguousSettledPrefix) {
  RecordingSink sink;
  auto tracker = AckTracker::create("s", &sink);
  AckRef first = tracker->track(Position{100, {}});
  AckRef second = tracker->track(Position{200, {}});
  second->release();
  EXPECT_EQ(tracker->committed(), std::nullopt);
  EXPECT_TRUE(sink.commits.empty());
  first->release();
  ASSERT_TRUE(tracker->committed());
  EXPECT_EQ(tracker->committed()->offset, 200u);
  ASSERT_EQ(sink.commits.size(), 1u);
  EXPECT_EQ(sink.commits[0].offset, 200u);
}

TEST(AckTrackerTest, FanOutSettlesOnlyAfterEveryOutputReported) {
  auto tracker = AckTracker::create("s", nullptr);
  AckSet set;
  set.add(tracker->track(Position{10, {}}));
  set.retain(3);    // three outputs
  set.release();    // the creation reference
  set.release();
  set.release();
  EXPECT_EQ(tracker->committed(), std::nullopt);
  set.release();
  EXPECT_EQ(tracker->committed()->offset, 10u);
}

TEST(AckTrackerTest, HeldReferenceKeepsCheckpointBehindHeldData) {
  auto tracker = AckTracker::create("s", nullptr);
  AckSet batch1;
  batch1.add(tracker->track(Position{100, {}}));
  AckSet holder;
  batch1.share_into(holder);   // a processor holds the tail of batch 1
  batch1.release();            // batch 1 delivered
  EXPECT_EQ(tracker->committed(), std::nullopt);
  AckSet batch2;
  batch2.add(tracker->track(Position{200, {}}));
  batch2.take_from(holder);    // the held event leaves with batch 2
  EXPECT_TRUE(holder.empty());
  batch2.release();
  EXPECT_EQ(tracker->committed()->offset, 200u);
}

TEST(AckTrackerTest, UnreleasedBatchBlocksLaterCommits) {
  auto tracker = AckTracker::create("s", nullptr);
  AckRef a = tracker->track(Position{1, {}});
  AckRef b = tracker->track(Position{2, {}});
  AckRef c = tracker->track(Position{3, {}});
  a->release();
  c->release();
  EXPECT_EQ(tracker->committed()->offset, 1u);
  EXPECT_EQ(tracker->unsettled(), 2u);
  b->release();
  EXPECT_EQ(tracker->committed()->offset, 3u);
  EXPECT_EQ(tracker->unsettled(), 0u);
}

// Batches settled in a scrambled order while more are handed out: the ring under the tracker
// wraps and grows many times; commits still follow the contiguous settled prefix exactly.
TEST(AckTrackerTest, ScrambledSettlingAcrossRingGrowthCommitsInOrder) {
  RecordingSink sink;
  auto tracker = AckTracker::create("s", &sink);
  std::vector<AckRef> out;
  std::vector<std::size_t> unsettled;   // indexes into `out`
  uint64_t next_offset = 1;
  uint64_t expect_committed = 0;
  std::vector<bool> settled;
  uint32_t rng = 12345;
  auto rand = [&] { return rng = rng * 1103515245u + 12345u, (rng >> 8); };
  for (int round = 0; round < 2000; ++round) {
    const int add = static_cast<int>(rand() % 5);
    for (int i = 0; i < add; ++i) {
      out.push_back(tracker->track(Position{next_offset++, "p" + std::to_string(out.size())}));
      settled.push_back(false);
      unsettled.push_back(out.size() - 1);
    }
    const int settle = unsettled.empty() ? 0 : static_cast<int>(rand() % 4);
    for (int i = 0; i < settle && !unsettled.empty(); ++i) {
      const std::size_t k = rand() % unsettled.size();
      const std::size_t idx = unsettled[k];
      unsettled.erase(unsettled.begin() + static_cast<std::ptrdiff_t>(k));
      out[idx]->release();
      settled[idx] = true;
    }
    while (expect_committed < settled.size() && settled[expect_committed]) ++expect_committed;
    ASSERT_EQ(tracker->unsettled(), settled.size() - expect_committed) << round;
    if (expect_committed == 0) {
      ASSERT_EQ(tracker->committed(), std::nullopt);
    } else {
      ASSERT_EQ(tracker->committed()->offset, expect_committed) << round;
      ASSERT_EQ(tracker->committed()->text, "p" + std::to_string(expect_committed - 1));
    }
  }
  for (std::size_t idx : unsettled) out[idx]->release();
  EXPECT_EQ(tracker->unsettled(), 0u);
  EXPECT_EQ(tracker->committed()->offset, out.size());
  for (std::size_t i = 1; i < sink.commits.size(); ++i) {
    ASSERT_LT(sink.commits[i - 1].offset, sink.commits[i].offset);
  }
  EXPECT_EQ(sink.commits.back().offset, out.size());
}

}  // namespace
}  // namespace logship
