#pragma once
// Scripted inputs and outputs for whole-pipeline tests.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "daemon/pipeline/topology.h"

namespace logship::pipeline_test {

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

inline config::Config make_config(const std::string& state_dir, InputMaker in, OutputMaker out,
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

inline std::string fresh_dir(const std::string& name) {
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

// Opens the recorder's gate and completes the parked deliveries as delivered.
inline void open_gate(Recorder& rec) {
  std::lock_guard lock(rec.mu);
  rec.gate_open = true;
  for (auto& [done, offs] : rec.parked) {
    rec.offsets.insert(rec.offsets.end(), offs.begin(), offs.end());
    done(DeliveryResult::delivered());
  }
  rec.parked.clear();
}

}  // namespace logship::pipeline_test
