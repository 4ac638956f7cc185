// OutputRunner's promises to every output: events reach the output in the order they were
// pushed, a failed delivery is retried whole until it succeeds (never dropped, never passed by
// later events), acknowledgements follow deliveries only, and drain() gives up at its deadline
// leaving what was not delivered unacknowledged.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/core/ack.h"
#include "daemon/pipeline/output_runner.h"

namespace logship {
namespace {

using namespace std::chrono_literals;

// Fails the first `failures` delivery calls (retry), then records what it is given.
class FlakyOutput final : public Output {
 public:
  explicit FlakyOutput(int failures) : failures_left_(failures) {}
  Status start(OutputContext&) override { return Status::ok(); }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    {
      std::lock_guard lock(mu_);
      ++calls_;
      if (failures_left_ != 0) {
        if (failures_left_ > 0) --failures_left_;
        done(DeliveryResult::retry("scripted outage"));
        return;
      }
      for (const auto& b : batches) {
        for (const Event& e : b->events()) delivered_.emplace_back(e.message);
      }
    }
    done(DeliveryResult::delivered());
  }
  void stop() override {}
  std::vector<std::string> delivered() {
    std::lock_guard lock(mu_);
    return delivered_;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  int failures_left_;   // < 0: fails for ever
  int calls_ = 0;
  std::vector<std::string> delivered_;
};

struct Pushed {
  std::shared_ptr<AckTracker> tracker;
  std::vector<std::string> messages;
};

// `batches` batches of `per_batch` events "m<i>", positions 1..batches.
Pushed push_numbered(OutputRunner& runner, int batches, int per_batch) {
  Pushed p{AckTracker::create("k", nullptr), {}};
  auto src = std::make_shared<SourceInfo>();
  src->input = "test";
  src->key = "k";
  for (int i = 0; i < batches; ++i) {
    auto b = std::make_shared<Batch>(src, per_batch);
    for (int j = 0; j < per_batch; ++j) {
      p.messages.push_back("m" + std::to_string(i * per_batch + j));
      b->add_event().message = b->copy(p.messages.back());
    }
    b->acks().add(p.tracker->track(Position{static_cast<uint64_t>(i + 1), {}}));
    runner.push(b);
  }
  return p;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(OutputRunnerDeliveryTest, RetriedDeliveriesKeepThePushOrderWithNoLossAndNoDuplicate) {
  auto out = std::make_unique<FlakyOutput>(3);
  FlakyOutput* raw = out.get();
  RunnerOptions opts;
  opts.batch_max_events = 4;   // 25 batches of 2 events: deliveries of 2 batches
  opts.retry_initial = 1ms;
  opts.retry_max = 2ms;
  OutputRunner runner("flaky", std::move(out), opts, fresh_dir("output_runner_order"));
  ASSERT_TRUE(runner.start().is_ok());
  Pushed p = push_numbered(runner, 25, 2);
  ASSERT_TRUE(runner.drain(SteadyClock::now() + 10s));
  EXPECT_EQ(raw->delivered(), p.messages);
  EXPECT_GE(raw->calls(), 13 + 3);   // every delivery once, plus the 3 failed attempts
  ASSERT_TRUE(p.tracker->committed());
  EXPECT_EQ(p.tracker->committed()->offset, 25u);
  EXPECT_EQ(p.tracker->unsettled(), 0u);
  EXPECT_EQ(runner.queued_bytes(), 0u);
}

TEST(OutputRunnerDeliveryTest, DrainGivesUpAtItsDeadlineAndAcknowledgesNothingUndelivered) {
  auto out = std::make_unique<FlakyOutput>(-1);
  FlakyOutput* raw = out.get();
  RunnerOptions opts;
  opts.retry_initial = 1ms;
  opts.retry_max = 5ms;
  OutputRunner runner("down", std::move(out), opts, fresh_dir("output_runner_drain"));
  ASSERT_TRUE(runner.start().is_ok());
  Pushed p = push_numbered(runner, 3, 1);
  const TimePoint before = SteadyClock::now();
  EXPECT_FALSE(runner.drain(before + 300ms));
  EXPECT_GE(SteadyClock::now() - before, 300ms);
  EXPECT_LT(SteadyClock::now() - before, 5s);
  EXPECT_GE(raw->calls(), 2);   // retried while the deadline lasted
  EXPECT_TRUE(raw->delivered().empty());
  EXPECT_FALSE(p.tracker->committed());
  EXPECT_EQ(p.tracker->unsettled(), 3u);
  EXPECT_GT(runner.failing_since_ns(), 0);
}

}  // namespace
}  // namespace logship
