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

}  // namespace
}  // namespace logship
