// Whole-pipeline behaviour with scripted inputs and outputs: backpressure, ack ordering and
// checkpoints, drain on stop.
#include "daemon/pipeline/topology.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/support/pipeline_test_util.h"

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

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

  open_gate(rec);
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

namespace logship {
namespace {

TEST(TopologyReadyTest, DataLostByAnInputTurnsReadyRedUntilTheNextPipeline) {
  using namespace std::chrono_literals;
  using namespace pipeline_test;
  Recorder rec;
  std::atomic<int> emitted{0};
  auto make = [&](const std::string& dir, bool fails_on_loss) {
    auto cfg = make_config(
        fresh_dir(dir), [&] { return std::make_unique<CountingInput>(1, 1, &emitted); },
        [&] { return std::make_unique<RecordingOutput>(&rec, 1); });
    cfg.service.ready_fails_on_loss = fails_on_loss;
    return cfg;
  };
  auto& lost = Metrics::global().counter("logship_input_lost_bytes_total", "input=\"in\"");
  lost.fetch_add(7);   // an earlier pipeline's loss: not this one's
  Topology topo(make("ready_loss", true));
  ASSERT_TRUE(topo.start().is_ok());
  std::string why;
  EXPECT_TRUE(topo.ready(60s, &why)) << why;
  lost.fetch_add(123);
  EXPECT_FALSE(topo.ready(60s, &why));
  EXPECT_EQ(why, "input in lost 123 bytes (rotated or deleted before they were read); a reload "
                 "or restart acknowledges it");
  EXPECT_TRUE(topo.stop(5s));
  // The next pipeline (a reload) starts green; without the option a loss never turns it red.
  Topology next(make("ready_loss2", true));
  ASSERT_TRUE(next.start().is_ok());
  EXPECT_TRUE(next.ready(60s, &why)) << why;
  EXPECT_TRUE(next.stop(5s));
  Topology off(make("ready_loss3", false));
  ASSERT_TRUE(off.start().is_ok());
  lost.fetch_add(1);
  EXPECT_TRUE(off.ready(60s, &why)) << why;
  EXPECT_TRUE(off.stop(5s));
}

}  // namespace
}  // namespace logship

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

// The output's settings change while its queue is full and its deliveries hang: the new runner
// gets the whole queue (the hung deliveries first, given up at the deadline), so every event
// reaches the new settings exactly once and in order, the input never restarts and the
// checkpoint ends at the last event.
TEST(TopologyReplaceOutputTest, TheQueueMovesToTheNewRunnerWholeAndInOrder) {
  constexpr int kBatches = 200, kPerBatch = 100;
  std::atomic<int> emitted{0};
  Recorder old_rec, new_rec;
  old_rec.gate_open = false;
  auto input = [&] { return std::make_unique<CountingInput>(kBatches, kPerBatch, &emitted); };
  const std::string dir = fresh_dir("replace_output");
  Topology topo(make_config(dir, input, [&] { return std::make_unique<RecordingOutput>(&old_rec, 2); }));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(old_rec.mu);
    return old_rec.parked.size() == 2;
  }));
  std::this_thread::sleep_for(100ms);   // the queue fills behind them; the input pauses
  const int paused_at = emitted.load();
  EXPECT_LT(paused_at, kBatches);

  config::Config next = make_config(dir, input, [&] {
    return std::make_unique<RecordingOutput>(&new_rec, 2);
  });
  ASSERT_TRUE(topo.replace_outputs(next, {"out"}, 200ms).is_ok());
  ASSERT_TRUE(eventually([&] { return emitted.load() == kBatches; }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(new_rec.mu);
    return new_rec.offsets.size() == static_cast<std::size_t>(kBatches * kPerBatch);
  }));
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_TRUE(old_rec.offsets.empty());
  ASSERT_EQ(new_rec.offsets.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  for (std::size_t i = 0; i < new_rec.offsets.size(); ++i) ASSERT_EQ(new_rec.offsets[i], i);
  ASSERT_TRUE(topo.checkpoints().get("counting"));
  EXPECT_EQ(topo.checkpoints().get("counting")->offset,
            static_cast<uint64_t>(kBatches * kPerBatch));
}

// Emits `total` single-event batches at a steady pace, resuming after its saved position; its
// event offsets are `base` + position, so two of them share one recorder.
class ResumingInput final : public Input {
 public:
  // `resumed_at`, when given, gets the position each start resumes at.
  ResumingInput(std::string key, uint64_t base, uint64_t total, std::atomic<int>* starts,
                std::vector<uint64_t>* resumed_at = nullptr)
      : key_(std::move(key)), base_(base), total_(total), starts_(starts), resumed_at_(resumed_at) {}
  ~ResumingInput() override { stop(); }
  Status start(InputContext& ctx) override {
    starts_->fetch_add(1);
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = key_;
    uint64_t pos = 0;
    if (auto saved = ctx.saved_position(key_)) pos = saved->offset;
    if (resumed_at_) resumed_at_->push_back(pos);
    stream_ = ctx.open_stream(src);
    thread_ = std::thread([this, &ctx, pos]() mutable {
      for (; pos < total_ && !ctx.stopping(); ++pos) {
        BatchPtr batch = stream_->new_batch(1);
        Event& e = batch->add_event();
        e.offset = base_ + pos;
        e.message = batch->copy("x");
        if (!stream_->emit(std::move(batch), Position{pos + 1, {}})) return;
        std::this_thread::sleep_for(200us);
      }
      stream_->flush(true);
    });
    return Status::ok();
  }
  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string key_;
  uint64_t base_, total_;
  std::atomic<int>* starts_;
  std::vector<uint64_t>* resumed_at_;
  std::unique_ptr<StreamHandle> stream_;
  std::thread thread_;
};

// One input's settings change while both read: it stops (its events delivered, its position
// committed) and starts again at that position; the other never stops. Each event arrives once.
TEST(TopologyReplaceInputTest, AChangedInputResumesWhereItStoppedAndTheOtherKeepsReading) {
  constexpr uint64_t kTotal = 3000, kBase = 1'000'000;
  std::atomic<int> steady_starts{0}, changing_starts{0};
  Recorder rec;
  const std::string dir = fresh_dir("replace_input");
  auto config = [&] {
    config::Config cfg = make_config(
        dir,
        [&] { return std::make_unique<ResumingInput>("steady", 0, kTotal, &steady_starts); },
        [&] { return std::make_unique<RecordingOutput>(&rec, 2); });
    config::ComponentConfig changing;
    changing.name = "changing";
    changing.make_input = [&] {
      return std::make_unique<ResumingInput>("changing", kBase, kTotal, &changing_starts);
    };
    cfg.inputs.push_back(std::move(changing));
    cfg.input_route = {0, 0};
    return cfg;
  };
  Topology topo(config());
  ASSERT_TRUE(topo.start().is_ok());
  auto received = [&](uint64_t from, uint64_t to) {
    std::lock_guard lock(rec.mu);
    return std::count_if(rec.offsets.begin(), rec.offsets.end(),
                         [&](uint64_t o) { return o >= from && o < to; });
  };
  ASSERT_TRUE(eventually([&] { return received(kBase, kBase + kTotal) >= 300; }));
  config::ConfigDiff diff;
  diff.in_place = true;
  diff.restarted_inputs = {"changing"};
  ASSERT_TRUE(topo.reconfigure(config(), diff, 5s).is_ok());
  // The changing input resumed after what it had delivered, not at the start.
  ASSERT_TRUE(topo.checkpoints().get("changing"));
  EXPECT_GE(topo.checkpoints().get("changing")->offset, 300u);
  ASSERT_TRUE(eventually([&] {
    return received(0, kTotal) == kTotal && received(kBase, kBase + kTotal) == kTotal;
  }));
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(steady_starts.load(), 1);
  EXPECT_EQ(changing_starts.load(), 2);
  std::vector<uint64_t> got = rec.offsets;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "an event arrived twice";
  EXPECT_EQ(got.size(), 2 * kTotal);
  EXPECT_EQ(topo.checkpoints().get("steady")->offset, kTotal);
  EXPECT_EQ(topo.checkpoints().get("changing")->offset, kTotal);
}

}  // namespace
}  // namespace logship

namespace logship {
namespace {

using namespace std::chrono_literals;
using namespace pipeline_test;

// Drops the events at odd offsets.
class DropOdd final : public Processor {
 public:
  void process(Batch& batch) override {
    std::erase_if(batch.events(), [](const Event& e) { return e.offset % 2 == 1; });
  }
};

// Reloads that change routes, processors and the set of outputs: only the input whose events
// take another way restarts (at its committed position); the other reads on, untouched; an
// added output gets the restarted input's events from its restart on; a removed one delivers
// what it was given and gets nothing more.
TEST(TopologyReconfigureTest, ARouteChangeRestartsOnlyItsInputAndOutputsComeAndGo) {
  constexpr uint64_t kTotal = 6000, kBase = 1'000'000;
  std::atomic<int> steady_starts{0}, moving_starts{0};
  std::vector<uint64_t> moving_resumed_at;   // written by start(), on this thread
  Recorder a, b;
  const std::string dir = fresh_dir("reconfigure");
  // Routes: steady -> a; moving -> a, plus `b` and the odd-dropping processor when `with_b`.
  auto config = [&](bool with_b) {
    config::Config cfg = make_config(
        dir, [&] { return std::make_unique<ResumingInput>("steady", 0, kTotal, &steady_starts); },
        [&] { return std::make_unique<RecordingOutput>(&a, 2); });
    cfg.inputs[0].name = "steady";
    cfg.outputs[0].name = "a";
    config::ComponentConfig moving;
    moving.name = "moving";
    moving.make_input = [&] {
      return std::make_unique<ResumingInput>("moving", kBase, kTotal, &moving_starts,
                                             &moving_resumed_at);
    };
    cfg.inputs.push_back(std::move(moving));
    cfg.routes[0].match = {"steady"};
    cfg.routes[0].outputs = {"a"};
    config::RouteConfig r;
    r.match = {"moving"};
    r.outputs = {"a"};
    if (with_b) {
      config::ComponentConfig oc;
      oc.name = "b";
      oc.make_output = [&] { return std::make_unique<RecordingOutput>(&b, 2); };
      cfg.outputs.push_back(std::move(oc));
      config::ComponentConfig pc;
      pc.name = "drop_odd";
      pc.make_processor = [] { return std::make_unique<DropOdd>(); };
      cfg.processors.push_back(std::move(pc));
      r.outputs.push_back("b");
      r.processors = {"drop_odd"};
    }
    cfg.routes.push_back(r);
    cfg.input_route = {0, 1};
    return cfg;
  };
  auto received = [](Recorder& rec, uint64_t from, uint64_t to) {
    std::lock_guard lock(rec.mu);
    return static_cast<uint64_t>(std::count_if(rec.offsets.begin(), rec.offsets.end(),
                                               [&](uint64_t o) { return o >= from && o < to; }));
  };
  Topology topo(config(false));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return received(a, kBase, kBase + kTotal) >= 500; }));

  config::ConfigDiff add;
  add.in_place = true;
  add.rewired = true;
  add.restarted_inputs = {"moving"};
  add.added_outputs = {"b"};
  ASSERT_TRUE(topo.reconfigure(config(true), add, 5s).is_ok());
  ASSERT_EQ(moving_resumed_at.size(), 2u);
  const uint64_t first_switch = moving_resumed_at[1];
  EXPECT_GE(first_switch, 500u);
  ASSERT_TRUE(eventually([&] { return received(b, kBase, kBase + kTotal) >= 500; }));

  config::ConfigDiff remove;
  remove.in_place = true;
  remove.rewired = true;
  remove.restarted_inputs = {"moving"};
  remove.removed_outputs = {"b"};
  ASSERT_TRUE(topo.reconfigure(config(false), remove, 5s).is_ok());
  ASSERT_EQ(moving_resumed_at.size(), 3u);
  const uint64_t second_switch = moving_resumed_at[2];
  ASSERT_LT(second_switch, kTotal) << "the test needs the input still reading here";
  const std::size_t b_at_removal = [&] {
    std::lock_guard lock(b.mu);
    return b.offsets.size();
  }();
  ASSERT_TRUE(eventually([&] {
    return received(a, 0, kTotal) == kTotal && topo.checkpoints().get("moving") &&
           topo.checkpoints().get("moving")->offset == kTotal;
  }));
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(steady_starts.load(), 1);
  EXPECT_EQ(moving_starts.load(), 3);

  // What each output got, exactly: a every steady event once, and every moving event once but
  // the odd ones read between the two reloads; b those even ones, nothing after its removal.
  std::vector<uint64_t> expect_a, expect_b;
  for (uint64_t i = 0; i < kTotal; ++i) expect_a.push_back(i);
  for (uint64_t pos = 0; pos < kTotal; ++pos) {
    const bool between = pos >= first_switch && pos < second_switch;
    if (!between || pos % 2 == 0) expect_a.push_back(kBase + pos);
    if (between && pos % 2 == 0) expect_b.push_back(kBase + pos);
  }
  std::vector<uint64_t> got_a = a.offsets, got_b = b.offsets;
  std::sort(got_a.begin(), got_a.end());
  std::sort(got_b.begin(), got_b.end());
  EXPECT_EQ(got_a, expect_a);
  EXPECT_EQ(got_b, expect_b);
  EXPECT_EQ(b.offsets.size(), b_at_removal);
}

}  // namespace
}  // namespace logship
