// throttle: a token bucket per key; a noisy key is cut to its burst, a quiet key is untouched.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "daemon/runtime/memory_budget.h"

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::make;
using testing::messages;

std::shared_ptr<SourceInfo> container(const std::string& name) {
  auto s = testing::source();
  s->key = name;
  s->tags.push_back(Tag{"container_name", ValueType::kString, name});
  return s;
}

int64_t throttled(const std::string& processor) {
  return Metrics::global().value("logship_processor_dropped_total",
                                 "processor=\"" + processor + "\",reason=\"throttle\"");
}

TEST(ThrottleProcessor, NoisyKeyIsCutToItsBurstQuietKeyPasses) {
  auto maker = testing::bind("throttle", "thr", "{rate: 0.001, burst: 3}");
  ASSERT_TRUE(maker);
  auto noisy_p = maker();
  auto quiet_p = maker();   // another stream of the same processor
  auto noisy = batch(container("noisy"), {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"});
  auto quiet = batch(container("quiet"), {"a", "b", "c"});
  noisy_p->process(*noisy);
  quiet_p->process(*quiet);
  EXPECT_EQ(messages(*noisy), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(messages(*quiet), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(throttled("thr"), 7);
}

TEST(ThrottleProcessor, KeyFromAFieldAndRefill) {
  auto m = make("throttle", "thr_level", "{rate: 100, burst: 1, key: '{level}'}");
  auto b = batch(container("c"), {"e1", "e2", "i1", "i2"});
  b->events()[0].set("level", Value::string("error"));
  b->events()[1].set("level", Value::string("error"));
  b->events()[2].set("level", Value::string("info"));
  b->events()[3].set("level", Value::string("info"));
  m->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"e1", "i1"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));   // 100/s: refilled
  auto again = batch(container("c"), {"e3"});
  again->events()[0].set("level", Value::string("error"));
  m->process(*again);
  EXPECT_EQ(messages(*again), (std::vector<std::string>{"e3"}));
}

TEST(ThrottleProcessor, OptionsAreValidated) {
  std::string err;
  EXPECT_FALSE(testing::bind("throttle", "t", "{}", &err));
  EXPECT_EQ(err, "processors.t (throttle): missing required option 'rate'");
  EXPECT_FALSE(testing::bind("throttle", "t", "{rate: 0}", &err));
  EXPECT_FALSE(testing::bind("throttle", "t", "{rate: 1, mode: wait}", &err));
  EXPECT_NE(err.find("expected one of drop, delay"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("throttle", "t", "{rate: 1, mode: delay, max_delayed_bytes: 10B}", &err));
  EXPECT_TRUE(testing::bind("throttle", "t", "{rate: 1, mode: delay}", &err));
}

int64_t delayed(const std::string& processor) {
  return testing::metric("logship_throttle_delayed_total", processor);
}
int64_t held_events(const std::string& processor) {
  return testing::metric("logship_throttle_held_events", processor);
}

BatchPtr keyed(const std::vector<std::string>& msgs) {
  auto b = batch(container("c"), msgs);
  for (Event& e : b->events()) e.set("k", Value::string(e.message.substr(0, 1)));
  return b;
}

TEST(ThrottleDelay, OverLimitEventsAreHeldNotDroppedAndLeaveInOrderPerKey) {
  auto m = make("throttle", "dl_order", "{rate: 10, burst: 1, key: '{k}', mode: delay}");
  auto b = keyed({"a1", "a2", "a3", "b1", "a4", "b2"});
  m->process(*b);
  // a and b each had one token: their first events pass, the rest wait in order.
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(delayed("dl_order"), 4);
  EXPECT_EQ(held_events("dl_order"), 4);
  EXPECT_EQ(testing::metric("logship_processor_dropped_total", "dl_order"), 0);
  ASSERT_TRUE(m->next_flush());
  EXPECT_LE(*m->next_flush(), SteadyClock::now() + std::chrono::milliseconds(101));

  // A new event of a key that holds some waits behind them even when a token is there.
  std::this_thread::sleep_for(std::chrono::milliseconds(110));   // one token each (< 200 ms)
  auto next = keyed({"a5", "c1"});
  m->process(*next);
  std::vector<std::string> got = messages(*next);
  // Released first (a2, b2: older than anything in this batch), then c1; a5 waits behind a3.
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.back(), "c1");
  EXPECT_EQ(std::set<std::string>(got.begin(), got.begin() + 2),
            (std::set<std::string>{"a2", "b2"}));
  EXPECT_EQ(delayed("dl_order"), 5);
  EXPECT_EQ(held_events("dl_order"), 3);   // a3, a4, a5

  // The flusher's path: released as tokens come, in order, until nothing is held.
  std::vector<std::string> later;
  auto deadline = SteadyClock::now() + std::chrono::seconds(5);
  while (m->next_flush() && SteadyClock::now() < deadline) {
    std::this_thread::sleep_until(*m->next_flush());
    auto out = std::make_unique<Batch>(container("c"));
    m->flush(*out, SteadyClock::now(), false);
    for (const auto& s : messages(*out)) later.push_back(s);
  }
  EXPECT_EQ(later, (std::vector<std::string>{"a3", "a4", "a5"}));
  EXPECT_EQ(held_events("dl_order"), 0);
  EXPECT_FALSE(m->next_flush());
}

TEST(ThrottleDelay, OtherStreamsAndKeysAreUnaffected) {
  auto maker = testing::bind("throttle", "dl_keys", "{rate: 0.001, burst: 2, mode: delay}");
  ASSERT_TRUE(maker);
  auto noisy_p = maker();
  auto quiet_p = maker();
  auto noisy = batch(container("noisy"), {"1", "2", "3", "4", "5"});
  auto quiet = batch(container("quiet"), {"a", "b"});
  noisy_p->process(*noisy);
  quiet_p->process(*quiet);
  EXPECT_EQ(messages(*noisy), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(messages(*quiet), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(quiet_p->next_flush());
  EXPECT_EQ(delayed("dl_keys"), 3);
  // At shutdown (force) what is held goes out whole rather than being lost.
  auto out = std::make_unique<Batch>(container("noisy"));
  noisy_p->flush(*out, SteadyClock::now(), true);
  EXPECT_EQ(messages(*out), (std::vector<std::string>{"3", "4", "5"}));
}

TEST(ThrottleDelay, NothingIsAcknowledgedBeforeItIsDelivered) {
  auto m = make("throttle", "dl_acks", "{rate: 0.001, burst: 1, mode: delay}");
  auto tracker = AckTracker::create("c", static_cast<CommitSink*>(nullptr));
  auto b = batch(container("c"), {"1", "2", "3"});
  b->acks().add(tracker->track(Position{30, {}}));
  m->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"1"}));
  b->acks().release();   // the outputs delivered "1"
  b.reset();
  EXPECT_FALSE(tracker->committed());   // "2" and "3" are held: not past them
  EXPECT_EQ(tracker->unsettled(), 1u);

  auto next = batch(container("c"), {"4"});
  next->acks().add(tracker->track(Position{40, {}}));
  m->process(*next);   // held behind 2 and 3
  EXPECT_EQ(next->size(), 0u);
  next->acks().release();   // an emptied batch is settled at once by the pipeline
  EXPECT_FALSE(tracker->committed());

  auto out = std::make_unique<Batch>(container("c"));
  m->flush(*out, SteadyClock::now(), true);
  EXPECT_EQ(messages(*out), (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_FALSE(tracker->committed());   // released, not yet delivered
  out->acks().release();                // delivered
  ASSERT_TRUE(tracker->committed());
  EXPECT_EQ(tracker->committed()->offset, 40u);
  EXPECT_EQ(tracker->unsettled(), 0u);
}

TEST(ThrottleDelay, AFullHoldAsksForBackpressureAndIsChargedToTheBudget) {
  auto m = make("throttle", "dl_full",
                "{rate: 0.001, burst: 1, mode: delay, max_delayed_bytes: 64KiB}");
  const int64_t before = MemoryBudget::global().held(MemoryPart::kDelayed);
  auto b = batch(container("c"), {"first", std::string(100, 'x')});
  m->process(*b);
  EXPECT_FALSE(m->over_hold_limit());
  EXPECT_GT(MemoryBudget::global().held(MemoryPart::kDelayed), before);
  EXPECT_EQ(testing::metric("logship_throttle_held_bytes", "dl_full"),
            MemoryBudget::global().held(MemoryPart::kDelayed) - before);
  auto more = batch(container("c"), {std::string(70000, 'y')});
  m->process(*more);
  EXPECT_TRUE(m->over_hold_limit());
  auto out = std::make_unique<Batch>(container("c"));
  m->flush(*out, SteadyClock::now(), true);
  EXPECT_FALSE(m->over_hold_limit());
  EXPECT_EQ(MemoryBudget::global().held(MemoryPart::kDelayed), before);
  EXPECT_EQ(testing::metric("logship_throttle_held_bytes", "dl_full"), 0);
}

}  // namespace
}  // namespace logship
