// Routing by content: which route takes which events, and the acknowledgement invariant —
// events no route takes are handled (the checkpoint advances), events two routes take settle
// only when both delivered.
#include "daemon/pipeline/content_router.h"

#include <gtest/gtest.h>

namespace logship {
namespace {

std::shared_ptr<const condition::Condition> cond(const std::string& text) {
  condition::CompileError err;
  auto c = condition::Condition::compile(text, &err);
  EXPECT_NE(c, nullptr) << err.to_string();
  return c;
}

struct Fixture {
  std::shared_ptr<AckTracker> tracker = AckTracker::create("s", nullptr);
  std::atomic<uint64_t> dropped{0};

  BatchPtr batch(const std::vector<std::pair<std::string, std::string>>& msg_level,
                 uint64_t end) {
    auto src = std::make_shared<SourceInfo>();
    src->input = "in";
    src->key = "s";
    auto b = std::make_unique<Batch>(src);
    for (const auto& [m, l] : msg_level) {
      Event& e = b->add_event();
      e.message = b->copy(m);
      e.set("level", Value::string(b->copy(l)));
    }
    b->acks().add(tracker->track(Position{end, {}}));
    return b;
  }
};

std::vector<std::string> msgs(const BatchPtr& b) {
  std::vector<std::string> r;
  if (!b) return r;
  for (const Event& e : b->events()) r.emplace_back(e.message);
  return r;
}
using V = std::vector<std::string>;

TEST(ContentRouter, FanOutByDefaultAndAcksWhenEveryPartDelivered) {
  Fixture f;
  ContentRouter router({{cond("level >= error"), false, false}, {nullptr, false, false}},
                       &f.dropped);
  std::vector<BatchPtr> parts;
  router.split(f.batch({{"a", "info"}, {"b", "error"}, {"c", "fatal"}}, 30), &parts);
  EXPECT_EQ(msgs(parts[0]), (V{"b", "c"}));
  EXPECT_EQ(msgs(parts[1]), (V{"a", "b", "c"}));
  EXPECT_EQ(f.tracker->unsettled(), 1u);
  parts[1]->acks().release();   // the second route delivered
  EXPECT_EQ(f.tracker->committed(), std::nullopt);
  parts[0]->acks().release();   // and the first
  ASSERT_TRUE(f.tracker->committed());
  EXPECT_EQ(f.tracker->committed()->offset, 30u);
  EXPECT_EQ(f.dropped.load(), 0u);
}

TEST(ContentRouter, ExclusiveRoutesFirstMatchWins) {
  Fixture f;
  ContentRouter router({{cond("level >= error"), true, false}, {nullptr, true, false}},
                       &f.dropped);
  std::vector<BatchPtr> parts;
  router.split(f.batch({{"a", "info"}, {"b", "error"}}, 10), &parts);
  EXPECT_EQ(msgs(parts[0]), (V{"b"}));
  EXPECT_EQ(msgs(parts[1]), (V{"a"}));
}

TEST(ContentRouter, UnmatchedEventsAreDroppedCountedAndAcked) {
  Fixture f;
  ContentRouter router({{cond("level >= error"), false, false}}, &f.dropped);
  std::vector<BatchPtr> parts;
  router.split(f.batch({{"a", "info"}, {"b", "debug"}}, 20), &parts);
  EXPECT_EQ(parts[0], nullptr);
  EXPECT_EQ(f.dropped.load(), 2u);
  ASSERT_TRUE(f.tracker->committed());   // nothing to deliver: handled at once
  EXPECT_EQ(f.tracker->committed()->offset, 20u);
  EXPECT_EQ(f.tracker->unsettled(), 0u);
}

TEST(ContentRouter, UnmatchedRouteTakesTheRest) {
  Fixture f;
  ContentRouter router({{cond("level == error"), false, false},
                        {cond("level == warn"), false, false},
                        {nullptr, false, true}},
                       &f.dropped);
  std::vector<BatchPtr> parts;
  router.split(f.batch({{"a", "info"}, {"b", "error"}, {"c", "W"}, {"d", "trace"}}, 40), &parts);
  EXPECT_EQ(msgs(parts[0]), (V{"b"}));
  EXPECT_EQ(msgs(parts[1]), (V{"c"}));
  EXPECT_EQ(msgs(parts[2]), (V{"a", "d"}));
  EXPECT_EQ(f.dropped.load(), 0u);
  parts[0]->acks().release();
  parts[2]->acks().release();
  EXPECT_EQ(f.tracker->committed(), std::nullopt);
  parts[1]->acks().release();
  EXPECT_EQ(f.tracker->committed()->offset, 40u);
}

TEST(ContentRouter, OneTakerOfEverythingGetsTheBatchItselfWithItsFieldsIntact) {
  Fixture f;
  ContentRouter router({{cond("level == error"), false, false}, {nullptr, false, false}},
                       &f.dropped);
  std::vector<BatchPtr> parts;
  BatchPtr b = f.batch({{"a", "info"}}, 5);
  const Batch* original = b.get();
  router.split(std::move(b), &parts);
  EXPECT_EQ(parts[0], nullptr);
  EXPECT_EQ(parts[1].get(), original);
  EXPECT_EQ(parts[1]->events()[0].find("level")->value.s, "info");
  parts[1]->acks().release();
  EXPECT_EQ(f.tracker->committed()->offset, 5u);
}

TEST(ContentRouter, CopiesOutliveTheOriginal) {
  Fixture f;
  ContentRouter router({{cond("level == error"), false, false}, {nullptr, false, false}},
                       &f.dropped);
  std::vector<BatchPtr> parts;
  router.split(f.batch({{"a", "info"}, {"b", "error"}}, 5), &parts);
  parts[1].reset();   // the original batch (taken whole by the last route) goes first
  ASSERT_TRUE(parts[0]);
  EXPECT_EQ(parts[0]->events()[0].message, "b");
  EXPECT_EQ(parts[0]->events()[0].find("level")->value.s, "error");
}

TEST(ContentRouter, LaterBatchesWaitForEarlierOnesSplitOrNot) {
  Fixture f;
  ContentRouter router({{cond("level == error"), false, false}}, &f.dropped);
  std::vector<BatchPtr> first, second;
  router.split(f.batch({{"a", "error"}}, 10), &first);
  router.split(f.batch({{"b", "info"}}, 20), &second);   // all dropped: settled at once
  EXPECT_EQ(f.tracker->committed(), std::nullopt);        // but batch 1 is not delivered
  first[0]->acks().release();
  EXPECT_EQ(f.tracker->committed()->offset, 20u);
}

TEST(ContentRouter, SourceOnlyConditionsDecideForTheWholeBatch) {
  EXPECT_TRUE(cond("label(\"team\") == \"payments\" and input == \"in\"")->source_only());
  EXPECT_FALSE(cond("label(\"team\") == \"payments\" and level == error")->source_only());
  auto tracker = AckTracker::create("s", nullptr);
  std::atomic<uint64_t> dropped{0};
  ContentRouter router({{cond("label(\"team\") == \"payments\""), true, false},
                        {nullptr, false, false}},
                       &dropped);
  auto make = [&](const std::string& team) {
    auto src = std::make_shared<SourceInfo>();
    src->input = "in";
    src->labels = {{"team", team}};
    auto b = std::make_unique<Batch>(src);
    b->add_event().message = b->copy("m1");
    b->add_event().message = b->copy("m2");
    b->acks().add(tracker->track(Position{1, {}}));
    return b;
  };
  std::vector<BatchPtr> parts;
  router.split(make("payments"), &parts);
  EXPECT_EQ(msgs(parts[0]), (V{"m1", "m2"}));
  EXPECT_EQ(parts[1], nullptr);
  router.split(make("search"), &parts);
  EXPECT_EQ(parts[0], nullptr);
  EXPECT_EQ(msgs(parts[1]), (V{"m1", "m2"}));
}

}  // namespace
}  // namespace logship
