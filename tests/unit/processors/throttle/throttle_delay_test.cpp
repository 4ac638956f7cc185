// A throttle in delay mode inside the real pipeline: its hold bound pauses the reader (as a full
// output queue does) while tokens let the held events go; every event arrives, in order, and the
// checkpoint reaches the end only once all of them were delivered.
#include <gtest/gtest.h>

#include "daemon/runtime/memory_budget.h"
#include "tests/unit/support/parser_test_util.h"
#include "tests/unit/support/pipeline_test_util.h"

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

TEST(ThrottleDelayPipeline, AFullHoldPausesTheReaderAndEverythingArrivesInOrder) {
  constexpr int kBatches = 20, kPerBatch = 10;   // 200 events, 10 pass at once, 190 wait
  std::atomic<int> emitted{0};
  Recorder rec;
  config::Config cfg = make_config(
      fresh_dir("throttle_delay"),
      [&] { return std::make_unique<CountingInput>(kBatches, kPerBatch, &emitted); },
      [&] { return std::make_unique<RecordingOutput>(&rec, 1); }, 1000);
  config::ComponentConfig pc;
  pc.name = "slow";
  pc.make_processor = testing::bind("throttle", "pipeline_delay",
                                    "{rate: 400, burst: 10, key: '', mode: delay, "
                                    "max_delayed_bytes: 1KiB}");
  ASSERT_TRUE(pc.make_processor);
  cfg.processors.push_back(std::move(pc));
  cfg.routes[0].processors = {"slow"};
  Topology topo(std::move(cfg));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(topo.start().is_ok());
  // 190 held events at 400/s take ~0.475 s; with the bound the reader cannot run ahead.
  std::this_thread::sleep_for(150ms);
  EXPECT_LT(emitted.load(), kBatches) << "the reader should be paused by the full hold";
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(rec.mu);
    return rec.offsets.size() == static_cast<std::size_t>(kBatches * kPerBatch);
  }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  ASSERT_TRUE(eventually([&] {
    auto c = topo.checkpoints().get("counting");
    return c && c->offset == static_cast<uint64_t>(kBatches * kPerBatch);
  }));
  EXPECT_TRUE(topo.stop(5s));
  std::lock_guard lock(rec.mu);
  ASSERT_EQ(rec.offsets.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
  // Tokens that refill while the reader waits may let an event pass at once: at most 190 wait.
  const int64_t delayed = testing::metric("logship_throttle_delayed_total", "pipeline_delay");
  EXPECT_GE(delayed, 100);
  EXPECT_LE(delayed, 190);
  EXPECT_EQ(testing::metric("logship_throttle_held_events", "pipeline_delay"), 0);
}

}  // namespace
}  // namespace logship
