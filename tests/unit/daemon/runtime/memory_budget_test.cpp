// The memory budget: what holders charge, when readers wait, and a whole pipeline that pauses
// at the budget rather than at its (larger) queue limit and loses nothing.
#include "daemon/runtime/memory_budget.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <string>

#include "tests/unit/support/pipeline_test_util.h"

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

BatchPtr batch_of(std::size_t bytes) {
  auto b = std::make_unique<Batch>(std::make_shared<SourceInfo>(), 1, bytes);
  Event& e = b->add_event();
  e.message = b->copy(std::string(bytes, 'x'));
  return b;
}

TEST(MemoryBudgetTest, ChargesAreDifferencesAndReleasedByTheHolder) {
  MemoryBudget budget;
  {
    MemoryCharge c(MemoryPart::kMultiline, budget);
    c.set(1000);
    c.set(400);
    EXPECT_EQ(budget.held(MemoryPart::kMultiline), 400);
    MemoryCharge d(MemoryPart::kPartialLines, budget);
    d.set(50);
    EXPECT_EQ(budget.used(), 450);
  }
  EXPECT_EQ(budget.used(), 0);
  EXPECT_EQ(budget.held(MemoryPart::kMultiline), 0);
  EXPECT_EQ(budget.held(MemoryPart::kPartialLines), 0);
}

TEST(MemoryBudgetTest, ABatchIsChargedOnceUntilItsLastHolderLetsGo) {
  MemoryBudget budget;
  BatchPtr b = batch_of(10000);
  const int64_t size = static_cast<int64_t>(b->byte_size());
  SharedBatch first = share_charged(std::move(b), MemoryPart::kOutputQueues, budget);
  SharedBatch second = first;   // a second output holds it too
  EXPECT_EQ(budget.held(MemoryPart::kOutputQueues), size);
  first.reset();
  EXPECT_EQ(budget.held(MemoryPart::kOutputQueues), size);
  second.reset();
  EXPECT_EQ(budget.used(), 0);
}

TEST(MemoryBudgetTest, BuffersGetTheLimitLessTheReserve) {
  MemoryBudget budget;
  budget.set_limit(64ull << 20);
  EXPECT_EQ(budget.limit(), 64ull << 20);
  EXPECT_EQ(budget.buffer_limit(), 44ull << 20);
  budget.set_limit(1ull << 20);
  EXPECT_EQ(budget.buffer_limit(), 4ull << 20);   // never less than a few batches
}

TEST(MemoryBudgetTest, StandingCostsShrinkTheBuffersShareButNeverMakeAReaderWait) {
  MemoryBudget budget;
  budget.set_limit(64ull << 20);   // 44 MiB for buffers
  MemoryCharge files(MemoryPart::kFollowedFiles, budget);
  MemoryCharge containers(MemoryPart::kContainerMetadata, budget);
  files.set(8000 * 4096);          // 8,000 followed files: 31.25 MiB
  containers.set(2ull << 20);
  EXPECT_EQ(budget.standing(), 8000 * 4096 + (2 << 20));
  EXPECT_EQ(budget.used(), 0);     // not a buffer
  EXPECT_EQ(budget.held(MemoryPart::kFollowedFiles), 8000 * 4096);
  EXPECT_EQ(budget.buffer_limit(), (44ull << 20) - 8000 * 4096 - (2ull << 20));   // 10.75 MiB
  EXPECT_TRUE(budget.fits(10ull << 20));
  EXPECT_FALSE(budget.fits(11ull << 20));
  // Past the limit: the buffers keep their minimum, and a reader with nothing draining ahead
  // of it goes on (only outputs' deliveries can make room; standing costs never drain).
  files.set(20000 * 4096);
  EXPECT_EQ(budget.buffer_limit(), 4ull << 20);
  std::atomic<bool> abort{false};
  EXPECT_TRUE(budget.wait_for_room(8ull << 20, abort));
  files.set(0);
  containers.set(0);
  EXPECT_EQ(budget.standing(), 0);
  EXPECT_EQ(budget.buffer_limit(), 44ull << 20);
}

TEST(MemoryBudgetTest, ReaderWaitsUntilOutputsReleaseEnough) {
  MemoryBudget budget;
  budget.set_limit(16ull << 20);   // 4 MiB for buffers (the minimum)
  MemoryCharge queued(MemoryPart::kOutputQueues, budget);
  queued.set(3ull << 20);
  std::atomic<bool> abort{false};
  EXPECT_TRUE(budget.wait_for_room(512 << 10, abort));   // fits: no wait
  auto waiter = std::async(std::launch::async,
                           [&] { return budget.wait_for_room(2ull << 20, abort); });
  ASSERT_TRUE(eventually([&] { return budget.waiting() == 1; }));
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);
  queued.set(1ull << 20);   // delivered: 1 + 2 MiB fit in 4
  EXPECT_EQ(waiter.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
}

TEST(MemoryBudgetTest, HoldsOnlyTheReaderCanReleaseNeverBlockIt) {
  MemoryBudget budget;
  budget.set_limit(16ull << 20);
  MemoryCharge held(MemoryPart::kMultiline, budget);
  held.set(8ull << 20);   // over the buffers' 4 MiB, and no output holds anything
  std::atomic<bool> abort{false};
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(budget.wait_for_room(1 << 20, abort));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(MemoryBudgetTest, AbortEndsTheWait) {
  MemoryBudget budget;
  budget.set_limit(16ull << 20);
  MemoryCharge queued(MemoryPart::kOutputQueues, budget);
  queued.set(4ull << 20);
  std::atomic<bool> abort{false};
  auto waiter = std::async(std::launch::async,
                           [&] { return budget.wait_for_room(1 << 20, abort); });
  ASSERT_TRUE(eventually([&] { return budget.waiting() == 1; }));
  abort = true;
  EXPECT_EQ(waiter.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(waiter.get());
}

TEST(MemoryBudgetTest, StalledOutputPausesInputsAtTheBudgetAndNothingIsLost) {
  constexpr int kBatches = 1000, kPerBatch = 100;   // about 24 MiB of batches
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  config::Config cfg = make_config(
      fresh_dir("memory_budget"),
      [&] { return std::make_unique<CountingInput>(kBatches, kPerBatch, &emitted); },
      [&] { return std::make_unique<RecordingOutput>(&rec, 1); });
  cfg.service.queue_max_bytes = config::ByteSize(256ull << 20);   // the budget must bind first
  cfg.service.memory_limit = config::ByteSize(16ull << 20);
  MemoryBudget& budget = MemoryBudget::global();
  Topology topo(std::move(cfg));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return budget.waiting() == 1; }));
  const int paused_at = emitted.load();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(emitted.load(), paused_at);
  EXPECT_LT(paused_at, kBatches / 2);
  EXPECT_GT(budget.held(MemoryPart::kOutputQueues), 0);
  EXPECT_LE(budget.used(), static_cast<int64_t>(budget.buffer_limit()));

  open_gate(rec);
  ASSERT_TRUE(eventually([&] { return emitted.load() == kBatches; }));
  EXPECT_TRUE(topo.stop(5s));
  ASSERT_EQ(rec.offsets.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
  EXPECT_EQ(budget.held(MemoryPart::kOutputQueues), 0);
}

}  // namespace
}  // namespace logship

namespace logship {
namespace {

TEST(MemoryBudgetParts, EveryPartHasItsOwnNameInMetrics) {
  std::set<std::string> names;
  for (MemoryPart p : kAllMemoryParts) names.insert(std::string(memory_part_name(p)));
  EXPECT_EQ(names.size(), kMemoryParts);
  for (const char* n : {"kafka_queue", "docker_plugin_pending", "journald_partial_lines",
                        "otlp_request_bodies"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST(MemoryBudgetParts, AReceiverIsRefusedOnlyWhileDeliveringWouldMakeRoom) {
  MemoryBudget budget;
  budget.set_limit(16ull << 20);   // buffers get the minimum: 4 MiB
  const uint64_t room = budget.buffer_limit();
  // Nothing held: even a body larger than the budget is taken (else it never would be).
  EXPECT_TRUE(budget.has_room(room + 1));
  {
    MemoryCharge bodies(MemoryPart::kRequestBodies, budget);
    bodies.set(room / 2);
    EXPECT_TRUE(budget.has_room(room / 4));
    // Bodies taken are answered once delivered: they drain, so a new one past the budget waits.
    EXPECT_FALSE(budget.has_room(room));
  }
  {
    MemoryCharge kafka(MemoryPart::kKafkaQueue, budget);
    kafka.set(room);
    EXPECT_FALSE(budget.has_room(1));
    // The Kafka queue drains by delivery reports: a reader waits for it too.
    std::atomic<bool> abort{false};
    auto waiter = std::async(std::launch::async, [&] { return budget.wait_for_room(1, abort); });
    EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
    kafka.set(0);
    EXPECT_TRUE(waiter.get());
  }
  {
    // What only the reader itself releases (partial lines) never refuses it.
    MemoryCharge partial(MemoryPart::kJournaldPending, budget);
    partial.set(room * 2);
    EXPECT_TRUE(budget.has_room(1));
  }
}

}  // namespace
}  // namespace logship
