// Held events leave on time whatever the input does: the flusher emits a processor's held
// events after its flush timeout although the input never calls flush, and at shutdown.
#include "daemon/pipeline/stream_flusher.h"

#include <gtest/gtest.h>

#include "tests/unit/support/pipeline_test_util.h"

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

// Holds every event until `timeout` after the last batch (a multiline group in miniature).
class HoldingProcessor final : public Processor {
 public:
  explicit HoldingProcessor(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  void process(Batch& batch) override {
    for (const Event& e : batch.events()) held_.push_back(e.offset);
    batch.events().clear();
    batch.acks().share_into(acks_);
    last_ = SteadyClock::now();
  }
  void flush(Batch& out, TimePoint now, bool force) override {
    if (held_.empty() || (!force && now < last_ + timeout_)) return;
    for (uint64_t off : held_) {
      Event& e = out.add_event();
      e.offset = off;
      e.message = out.copy("held");
    }
    held_.clear();
    out.acks().take_from(acks_);
  }
  std::optional<TimePoint> next_flush() const override {
    if (held_.empty()) return std::nullopt;
    return last_ + timeout_;
  }

 private:
  std::chrono::milliseconds timeout_;
  std::vector<uint64_t> held_;
  AckSet acks_;
  TimePoint last_{};
};

// Emits `n` events in one batch, then waits for stop without ever calling flush (like an input
// blocked in a read), and leaves without flushing.
class SilentInput final : public Input {
 public:
  explicit SilentInput(int n) : n_(n) {}
  ~SilentInput() override { stop(); }
  Status start(InputContext& ctx) override {
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = "silent";
    stream_ = ctx.open_stream(src);
    thread_ = std::thread([this, &ctx] {
      BatchPtr b = stream_->new_batch(n_);
      for (int i = 0; i < n_; ++i) {
        Event& e = b->add_event();
        e.offset = static_cast<uint64_t>(i);
        e.message = b->copy("line");
      }
      emitted_at = SteadyClock::now();
      stream_->emit(std::move(b), Position{static_cast<uint64_t>(n_), {}});
      while (!ctx.stopping()) std::this_thread::sleep_for(5ms);
    });
    return Status::ok();
  }
  void stop() override {
    if (thread_.joinable()) thread_.join();
  }
  std::atomic<TimePoint> emitted_at{TimePoint{}};

 private:
  int n_;
  std::unique_ptr<StreamHandle> stream_;
  std::thread thread_;
};

config::Config holding_config(const std::string& dir, SilentInput** in, Recorder* rec,
                              std::chrono::milliseconds timeout) {
  config::Config cfg = make_config(
      dir,
      [in] {
        auto p = std::make_unique<SilentInput>(3);
        *in = p.get();
        return p;
      },
      [rec] { return std::make_unique<RecordingOutput>(rec, 1); });
  config::ComponentConfig pc;
  pc.name = "hold";
  pc.make_processor = [timeout] { return std::make_unique<HoldingProcessor>(timeout); };
  cfg.processors.push_back(std::move(pc));
  cfg.routes[0].processors = {"hold"};
  return cfg;
}

TEST(StreamFlusherTest, HeldEventsLeaveAfterTheTimeoutWithoutTheInputFlushing) {
  Recorder rec;
  SilentInput* in = nullptr;
  Topology topo(holding_config(fresh_dir("flush_timeout"), &in, &rec, 300ms));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(rec.mu);
    return rec.offsets.size() == 3;
  }, 5s));
  const auto waited = SteadyClock::now() - in->emitted_at.load();
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 300ms + 500ms);
  {
    std::lock_guard lock(rec.mu);
    EXPECT_EQ(rec.offsets, (std::vector<uint64_t>{0, 1, 2}));
  }
  // Delivered, so the checkpoint passes the held lines now, and only now.
  ASSERT_TRUE(eventually([&] { return topo.checkpoints().get("silent").has_value(); }));
  EXPECT_EQ(topo.checkpoints().get("silent")->offset, 3u);
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(rec.offsets.size(), 3u);   // no second copy at shutdown
}

TEST(StreamFlusherTest, ShutdownFlushesWhatTheInputLeftHeld) {
  Recorder rec;
  SilentInput* in = nullptr;
  Topology topo(holding_config(fresh_dir("flush_shutdown"), &in, &rec, 1h));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return in != nullptr && in->emitted_at.load() != TimePoint{}; }));
  std::this_thread::sleep_for(200ms);   // several flusher passes: nothing is due
  {
    std::lock_guard lock(rec.mu);
    EXPECT_TRUE(rec.offsets.empty());
  }
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(rec.offsets, (std::vector<uint64_t>{0, 1, 2}));
  ASSERT_TRUE(topo.checkpoints().get("silent"));
  EXPECT_EQ(topo.checkpoints().get("silent")->offset, 3u);
}

}  // namespace
}  // namespace logship
