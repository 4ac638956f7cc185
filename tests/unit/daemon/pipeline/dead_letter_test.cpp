// The runner's dead-letter-and-continue path: an output settles the events that can never be
// delivered through OutputContext::dead_letter, and the runner
// writes them with their reason, counts them per error, acknowledges them and lets every other
// event through: nothing held up, nothing lost, nothing written twice.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/core/ack.h"
#include "daemon/pipeline/output_runner.h"
#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

using namespace std::chrono_literals;

// Delivers every event except those whose message starts with "poison" (dead-lettered as
// kBadPath) or "reject" (dead-lettered as kRejected, as a 400 answer does).
class PoisonAwareOutput final : public Output {
 public:
  Status start(OutputContext& ctx) override {
    ctx_ = &ctx;
    return Status::ok();
  }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    std::vector<std::string> written;
    for (const auto& b : batches) {
      for (const Event& e : b->events()) {
        Status s = Status::ok();
        if (e.message.starts_with("poison")) {
          s = ctx_->dead_letter(e, b->source(), PermanentError::kBadPath, "open /x: File name too long");
        } else if (e.message.starts_with("reject")) {
          s = ctx_->dead_letter(e, b->source(), PermanentError::kRejected, "HTTP 400");
        } else {
          written.emplace_back(e.message);
        }
        if (!s.is_ok()) return done(DeliveryResult::retry(s.message()));
      }
    }
    {
      std::lock_guard lock(mu_);
      for (auto& w : written) delivered_.push_back(std::move(w));
    }
    done(DeliveryResult::delivered());
  }
  void stop() override {}
  std::vector<std::string> delivered() {
    std::lock_guard lock(mu_);
    return delivered_;
  }

 private:
  OutputContext* ctx_ = nullptr;
  std::mutex mu_;
  std::vector<std::string> delivered_;
};

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(DeadLetterTest, PoisonEventsAreDeadLetteredWithTheirReasonAndTheRestGoesOn) {
  const std::string dir = ::testing::TempDir() + "/dead_letter_continue";
  std::filesystem::remove_all(dir);
  auto out = std::make_unique<PoisonAwareOutput>();
  PoisonAwareOutput* raw = out.get();
  RunnerOptions opts;
  // Delivery calls: {a0 poison-1 a1}, {a2 poison-2 poison-3}, {reject-1}, {a3 a4 a5}.
  opts.batch_max_events = 3;
  opts.retry_initial = 1ms;
  opts.retry_max = 2ms;
  OutputRunner runner("dl", std::move(out), opts, dir);
  ASSERT_TRUE(runner.start().is_ok());
  const std::string bad_path = label("output", "dl") + "," + label("error", "bad_path");
  const std::string rejected = label("output", "dl") + "," + label("error", "rejected");
  const int64_t bad_before = Metrics::global().value("logship_output_dead_lettered_total", bad_path);
  const int64_t rej_before = Metrics::global().value("logship_output_dead_lettered_total", rejected);

  auto tracker = AckTracker::create("k", nullptr);
  auto src = std::make_shared<SourceInfo>();
  src->input = "test";
  src->key = "k";
  const std::vector<std::vector<std::string>> batches = {
      {"a0", "poison-1", "a1"}, {"a2"}, {"poison-2", "poison-3"}, {"reject-1"},
      {"a3", "a4", "a5"}};
  for (std::size_t i = 0; i < batches.size(); ++i) {
    auto b = std::make_shared<Batch>(src, batches[i].size());
    for (const auto& m : batches[i]) b->add_event().message = b->copy(m);
    b->acks().add(tracker->track(Position{i + 1, {}}));
    runner.push(b);
  }
  ASSERT_TRUE(runner.drain(SteadyClock::now() + 10s));

  // Every batch settled, so the position passed the poison events.
  ASSERT_TRUE(tracker->committed());
  EXPECT_EQ(tracker->committed()->offset, batches.size());
  EXPECT_EQ(tracker->unsettled(), 0u);
  EXPECT_EQ(raw->delivered(), (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4", "a5"}));

  const auto dlq = lines_of(dir + "/dlq/dl.ndjson");
  ASSERT_EQ(dlq.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(dlq[i].find(R"("error":"bad_path","reason":"open /x: File name too long")"),
              std::string::npos) << dlq[i];
    EXPECT_NE(dlq[i].find("poison-" + std::to_string(i + 1)), std::string::npos) << dlq[i];
  }
  EXPECT_NE(dlq[3].find(R"("error":"rejected","reason":"HTTP 400")"), std::string::npos) << dlq[3];
  EXPECT_NE(dlq[3].find("reject-1"), std::string::npos) << dlq[3];
  EXPECT_EQ(Metrics::global().value("logship_output_dead_lettered_total", bad_path) - bad_before, 3);
  EXPECT_EQ(Metrics::global().value("logship_output_dead_lettered_total", rejected) - rej_before, 1);
}

TEST(DeadLetterTest, AnUnwritableDeadLetterFileKeepsTheEventsUnacknowledged) {
  const std::string dir = ::testing::TempDir() + "/dead_letter_unwritable";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // A file where the dlq directory should be: the dead-letter file can never be opened.
  std::ofstream(dir + "/dlq") << "in the way\n";
  auto out = std::make_unique<PoisonAwareOutput>();
  RunnerOptions opts;
  opts.retry_initial = 1ms;
  opts.retry_max = 5ms;
  OutputRunner runner("dl_unwritable", std::move(out), opts, dir);
  ASSERT_TRUE(runner.start().is_ok());
  auto tracker = AckTracker::create("k", nullptr);
  auto src = std::make_shared<SourceInfo>();
  auto b = std::make_shared<Batch>(src, 1);
  b->add_event().message = b->copy("poison");
  b->acks().add(tracker->track(Position{1, {}}));
  runner.push(b);
  // Retried, never acknowledged: the drain deadline passes with the batch still queued.
  EXPECT_FALSE(runner.drain(SteadyClock::now() + 300ms));
  EXPECT_FALSE(tracker->committed());
  EXPECT_EQ(tracker->unsettled(), 1u);
}

// Dead-letters every "poison" event on each attempt, and fails the first attempt of every
// delivery afterwards (a 429 for its other events, as an Elasticsearch bulk can).
class RetryOnceOutput final : public Output {
 public:
  Status start(OutputContext& ctx) override {
    ctx_ = &ctx;
    return Status::ok();
  }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    for (const auto& b : batches) {
      for (const Event& e : b->events()) {
        if (!e.message.starts_with("poison")) continue;
        Status s = ctx_->dead_letter(e, b->source(), PermanentError::kRejected, "status 400: x");
        if (!s.is_ok()) return done(DeliveryResult::retry(s.message()));
      }
    }
    if (++calls_ % 2 == 1) return done(DeliveryResult::retry("status 429"));
    done(DeliveryResult::delivered());
  }
  void stop() override {}

 private:
  OutputContext* ctx_ = nullptr;
  int calls_ = 0;
};

TEST(DeadLetterTest, DeadLettersAreNeverCountedAsDeliveredNorWrittenTwiceOnARetry) {
  const std::string dir = ::testing::TempDir() + "/dead_letter_counts";
  std::filesystem::remove_all(dir);
  RunnerOptions opts;
  opts.batch_max_events = 4;
  opts.retry_initial = 1ms;
  opts.retry_max = 2ms;
  OutputRunner runner("dl_counts", std::make_unique<RetryOnceOutput>(), opts, dir);
  ASSERT_TRUE(runner.start().is_ok());
  const std::string out = label("output", "dl_counts");
  const std::string rejected = out + "," + label("error", "rejected");
  const int64_t delivered_before = Metrics::global().value("logship_output_events_total", out);
  const int64_t dead_before = Metrics::global().value("logship_output_dead_lettered_total", rejected);
  const uint64_t process_before = OutputRunner::dead_lettered_in_process();
  auto src = std::make_shared<SourceInfo>();
  src->input = "test";
  src->key = "k";
  const std::vector<std::vector<std::string>> batches = {
      {"a0", "poison-1", "a1", "poison-2"}, {"a2", "a3"}, {"poison-3"}};
  for (const auto& msgs : batches) {
    auto b = std::make_shared<Batch>(src, msgs.size());
    for (const auto& m : msgs) b->add_event().message = b->copy(m);
    runner.push(b);
  }
  ASSERT_TRUE(runner.drain(SteadyClock::now() + 10s));
  const auto dlq = lines_of(dir + "/dlq/dl_counts.ndjson");
  ASSERT_EQ(dlq.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(dlq[i].find("poison-" + std::to_string(i + 1)), std::string::npos) << dlq[i];
  }
  EXPECT_EQ(Metrics::global().value("logship_output_events_total", out) - delivered_before, 4);
  EXPECT_EQ(Metrics::global().value("logship_output_dead_lettered_total", rejected) - dead_before, 3);
  EXPECT_EQ(OutputRunner::dead_lettered_in_process() - process_before, 3u);
}

TEST(DeadLetterTest, AFullDeadLetterSeriesDropsTheNewestAndCountsThem) {
  const std::string dir = ::testing::TempDir() + "/dead_letter_full";
  std::filesystem::remove_all(dir);
  RunnerOptions opts;
  opts.dead_letter = {.max_file_bytes = 4096, .max_files = 2, .drop_oldest = false};
  OutputRunner runner("dl_full", std::make_unique<PoisonAwareOutput>(), opts, dir);
  ASSERT_TRUE(runner.start().is_ok());
  const std::string out = label("output", "dl_full");
  const uint64_t lost_before = OutputRunner::dead_letters_dropped_in_process();
  auto src = std::make_shared<SourceInfo>();
  src->input = "test";
  src->key = "k";
  auto b = std::make_shared<Batch>(src, 100);
  const std::string pad(200, 'p');
  for (int i = 0; i < 100; ++i) b->add_event().message = b->copy("poison-" + pad);
  runner.push(b);
  ASSERT_TRUE(runner.drain(SteadyClock::now() + 10s));
  const std::size_t kept = lines_of(dir + "/dlq/dl_full.ndjson").size() +
                           lines_of(dir + "/dlq/dl_full.ndjson.1").size();
  EXPECT_GT(kept, 10u);   // about 450-byte lines, 9 a file
  EXPECT_LT(kept, 100u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/dlq/dl_full.ndjson.2"));
  EXPECT_EQ(Metrics::global().value("logship_output_dead_letters_dropped_total", out),
            static_cast<int64_t>(100 - kept));
  EXPECT_EQ(OutputRunner::dead_letters_dropped_in_process() - lost_before, 100 - kept);
}

}  // namespace
}  // namespace logship
