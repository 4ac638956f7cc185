// Whole-pipeline behaviour with scripted inputs and outputs: backpressure, ack ordering and
// checkpoints, drain on stop.
#include "daemon/pipeline/topology.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace logship {
namespace {

using namespace std::chrono_literals;

// Emits `batches` batches of `per_batch` events; event offsets are 0..N-1 and each batch ends at
// the offset after its last event.
class CountingInput final : public Input {
 public:
  CountingInput(int batches, int per_batch, std::atomic<int>* emitted)
      : batches_(batches), per_batch_(per_batch), emitted_(emitted) {}
  ~CountingInput() override { stop(); }
  Status start(InputContext& ctx) override {
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = "counting";
    stream_ = ctx.open_stream(src);
    thread_ = std::thread([this, &ctx] {
      uint64_t seq = 0;
      for (int b = 0; b < batches_ && !ctx.stopping(); ++b) {
        BatchPtr batch = stream_->new_batch(per_batch_);
        for (int i = 0; i < per_batch_; ++i) {
          Event& e = batch->add_event();
          e.offset = seq++;
          e.message = batch->copy(std::string(200, 'x'));
        }
        if (!stream_->emit(std::move(batch), Position{seq, {}})) return;
        emitted_->fetch_add(1);
      }
      ctx.finished();
    });
    return Status::ok();
  }
  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  int batches_, per_batch_;
  std::atomic<int>* emitted_;
  std::unique_ptr<StreamHandle> stream_;
  std::thread thread_;
};

// Records event offsets. While the gate is closed, deliveries are parked (not completed).
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  bool gate_open = true;
  std::vector<uint64_t> offsets;
  std::vector<std::pair<DeliverDone, std::vector<uint64_t>>> parked;
};

class RecordingOutput final : public Output {
 public:
  RecordingOutput(Recorder* r, int in_flight) : r_(r), in_flight_(in_flight) {}
  Status start(OutputContext&) override { return Status::ok(); }
  int max_in_flight() const override { return in_flight_; }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    std::vector<uint64_t> offs;
    for (const auto& b : batches) {
      for (const Event& e : b->events()) offs.push_back(e.offset);
    }
    std::unique_lock lock(r_->mu);
    if (!r_->gate_open) {
      r_->parked.emplace_back(std::move(done), std::move(offs));
      r_->cv.notify_all();
      return;
    }
    r_->offsets.insert(r_->offsets.end(), offs.begin(), offs.end());
    lock.unlock();
    done(DeliveryResult::delivered());
  }
  void stop() override {
    std::lock_guard lock(r_->mu);
    for (auto& [done, offs] : r_->parked) done(DeliveryResult::retry("stopping"));
    r_->parked.clear();
  }

 private:
  Recorder* r_;
  int in_flight_;
};

config::Config make_config(const std::string& state_dir, InputMaker in, OutputMaker out,
                           int64_t batch_max_events = 100) {
  config::Config cfg;
  cfg.service.state_dir = state_dir;
  cfg.service.queue_max_bytes = config::ByteSize(64 * 1024);
  cfg.service.batch_max_events = batch_max_events;    // one batch per delivery
  cfg.service.checkpoint_interval = config::Millis(20);
  config::ComponentConfig ic;
  ic.name = "in";
  ic.make_input = std::move(in);
  cfg.inputs.push_back(std::move(ic));
  config::ComponentConfig oc;
  oc.name = "out";
  oc.make_output = std::move(out);
  cfg.outputs.push_back(std::move(oc));
  config::RouteConfig r;
  r.outputs = {"out"};
  cfg.routes.push_back(r);
  cfg.input_route = {0};
  return cfg;
}

std::string fresh_dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/topo_" + name;
  std::filesystem::remove_all(d);
  return d;
}

template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(TopologyTest, BlockedOutputPausesInputAndNothingIsDropped) {
  constexpr int kBatches = 200, kPerBatch = 100;
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  Topology topo(make_config(
      fresh_dir("backpressure"),
      [&] { return std::make_unique<CountingInput>(kBatches, kPerBatch, &emitted); },
      [&] { return std::make_unique<RecordingOutput>(&rec, 1); }));
  ASSERT_TRUE(topo.start().is_ok());
  // The queue (64 KiB) fills within a few batches, then the input must stay paused.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(rec.mu);
    return !rec.parked.empty();
  }));
  std::this_thread::sleep_for(200ms);
  int paused_at = emitted.load();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(emitted.load(), paused_at);
  EXPECT_LT(paused_at, 10);
  EXPECT_FALSE(topo.checkpoints().get("counting"));   // nothing delivered, nothing committed

  {
    std::lock_guard lock(rec.mu);
    rec.gate_open = true;
    for (auto& [done, offs] : rec.parked) {
      rec.offsets.insert(rec.offsets.end(), offs.begin(), offs.end());
      done(DeliveryResult::delivered());
    }
    rec.parked.clear();
  }
  ASSERT_TRUE(eventually([&] { return emitted.load() == kBatches; }));
  EXPECT_TRUE(topo.stop(5s));
  ASSERT_EQ(rec.offsets.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
  ASSERT_TRUE(topo.checkpoints().get("counting"));
  EXPECT_EQ(topo.checkpoints().get("counting")->offset, static_cast<uint64_t>(kBatches * kPerBatch));
}

TEST(TopologyTest, CheckpointNeverPassesAnUnackedBatch) {
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  Topology topo(make_config(
      fresh_dir("ordering"),
      [&] { return std::make_unique<CountingInput>(4, 10, &emitted); },
      [&] { return std::make_unique<RecordingOutput>(&rec, 4); }, 10));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(rec.mu);
    return rec.parked.size() == 4;
  }));
  std::vector<std::pair<DeliverDone, std::vector<uint64_t>>> parked;
  {
    std::lock_guard lock(rec.mu);
    parked = std::move(rec.parked);
    rec.parked.clear();
  }
  // Complete batches 3, 2, 1 first: batch 0 is still out, so nothing may be committed.
  for (int i = 3; i >= 1; --i) {
    parked[i].first(DeliveryResult::delivered());
    EXPECT_FALSE(topo.checkpoints().get("counting")) << "after batch " << i;
  }
  parked[0].first(DeliveryResult::delivered());
  ASSERT_TRUE(topo.checkpoints().get("counting"));
  EXPECT_EQ(topo.checkpoints().get("counting")->offset, 40u);
  EXPECT_TRUE(topo.stop(5s));
}

TEST(TopologyTest, StopPastDeadlineLeavesUndeliveredDataUnacked) {
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  const std::string dir = fresh_dir("deadline");
  {
    Topology topo(make_config(
        dir, [&] { return std::make_unique<CountingInput>(1000, 100, &emitted); },
        [&] { return std::make_unique<RecordingOutput>(&rec, 1); }));
    ASSERT_TRUE(topo.start().is_ok());
    ASSERT_TRUE(eventually([&] {
      std::lock_guard lock(rec.mu);
      return !rec.parked.empty();
    }));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(topo.stop(300ms));   // the output never delivers
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  }
  CheckpointStore store;
  ASSERT_TRUE(store.open(dir).is_ok());
  EXPECT_FALSE(store.get("counting"));
}

}  // namespace
}  // namespace logship
