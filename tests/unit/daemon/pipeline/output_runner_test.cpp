// OutputRunner with a transport that completes several in-flight deliveries at once from its own
// threads, as the Elasticsearch output's senders do. Run under TSan (scripts/test.sh) this
// catches unsynchronized runner state touched from completion callbacks.
#include "daemon/pipeline/output_runner.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace logship {
namespace {

using namespace std::chrono_literals;

// Parks deliveries until `width` are in flight, then completes them all at once, each from its
// own thread: with retry for the first `failing_rounds` rounds, delivered after that.
class ConcurrentOutput final : public Output {
 public:
  ConcurrentOutput(int width, int failing_rounds)
      : width_(width), failing_rounds_(failing_rounds) {}
  ~ConcurrentOutput() override { stop(); }
  Status start(OutputContext&) override { return Status::ok(); }
  int max_in_flight() const override { return width_; }
  void deliver(std::span<const SharedBatch>, DeliverDone done) override {
    std::vector<DeliverDone> round;
    bool fail;
    {
      std::lock_guard lock(mu_);
      parked_.push_back(std::move(done));
      // The runner re-dispatches all retried batches together, so every round fills up.
      if (static_cast<int>(parked_.size()) < width_) return;
      round.swap(parked_);
      fail = rounds_++ < failing_rounds_;
    }
    complete(std::move(round), fail);
  }
  void stop() override {
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  int rounds() {
    std::lock_guard lock(mu_);
    return rounds_;
  }

 private:
  void complete(std::vector<DeliverDone> round, bool fail) {
    std::lock_guard lock(threads_mu_);
    for (auto& d : round) {
      threads_.emplace_back([d = std::move(d), fail] {
        d(fail ? DeliveryResult::retry("scripted") : DeliveryResult::delivered());
      });
    }
  }

  const int width_;
  const int failing_rounds_;
  std::mutex mu_;
  std::vector<DeliverDone> parked_;
  int rounds_ = 0;
  std::mutex threads_mu_;
  std::vector<std::thread> threads_;
};

TEST(OutputRunnerTest, ConcurrentRetriesFromTransportThreadsAreSafeAndEverythingIsDelivered) {
  constexpr int kWidth = 4;
  constexpr int kBatches = 4;
  std::string dir = ::testing::TempDir() + "/output_runner_concurrent";
  std::filesystem::remove_all(dir);
  auto out = std::make_unique<ConcurrentOutput>(kWidth, 3);
  ConcurrentOutput* raw = out.get();
  RunnerOptions opts;
  opts.batch_max_events = 1;   // one batch per delivery call: kWidth calls in flight at once
  opts.retry_initial = 1ms;
  opts.retry_max = 2ms;
  OutputRunner runner("concurrent", std::move(out), opts, dir);
  ASSERT_TRUE(runner.start().is_ok());

  auto src = std::make_shared<SourceInfo>();
  src->input = "test";
  src->key = "k";
  for (int i = 0; i < kBatches; ++i) {
    auto b = std::make_shared<Batch>(src, 1);
    Event& e = b->add_event();
    e.message = b->copy("x");
    runner.push(b);
  }
  EXPECT_TRUE(runner.drain(SteadyClock::now() + 10s));
  EXPECT_EQ(runner.queued_bytes(), 0u);
  // 3 failing rounds (the first with all kWidth calls in flight), then the successful one.
  EXPECT_GE(raw->rounds(), 4);
}

}  // namespace
}  // namespace logship
