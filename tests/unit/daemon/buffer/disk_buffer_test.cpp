// An output's disk buffer inside the whole pipeline: outages cost disk not memory, inputs
// checkpoint only past durable data, restarts replay exactly what was not delivered, the full
// policies, and corruption skipped and counted.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/runtime/metrics.h"
#include "tests/unit/support/pipeline_test_util.h"

namespace logship {
namespace {

using namespace pipeline_test;
namespace fs = std::filesystem;

constexpr int kPerBatch = 100;

config::Config disk_config(const std::string& dir, InputMaker in, OutputMaker out,
                           config::BufferOptions b = {}) {
  config::Config cfg = make_config(dir, std::move(in), std::move(out));
  b.type = config::BufferType::kDisk;
  if (b.max_size.bytes == 0) b.max_size = config::ByteSize(64ull << 20);
  if (b.fsync_interval.count() == 1000) b.fsync_interval = config::Millis(20);
  cfg.outputs[0].buffer = b;
  return cfg;
}

InputMaker counting(int batches, std::atomic<int>* emitted) {
  return [=] { return std::make_unique<CountingInput>(batches, kPerBatch, emitted); };
}

OutputMaker recording(Recorder* rec) {
  return [=] { return std::make_unique<RecordingOutput>(rec, 1); };
}

std::size_t delivered(Recorder& rec) {
  std::lock_guard lock(rec.mu);
  return rec.offsets.size();
}

uint64_t committed(Topology& t, const std::string& key) {
  auto p = t.checkpoints().get(key);
  return p ? p->offset : 0;
}

int64_t metric(const std::string& name) { return Metrics::global().value(name, "output=\"out\""); }

std::vector<std::string> segments(const std::string& state_dir) {
  std::vector<std::string> r;
  for (const auto& e : fs::directory_iterator(state_dir + "/buffer/out")) {
    r.push_back(e.path().string());
  }
  std::sort(r.begin(), r.end());
  return r;
}

// Fills the buffer while the output is stalled, then stops without delivering anything.
void fill_and_stop(const std::string& dir, int batches) {
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  Topology topo(disk_config(dir, counting(batches, &emitted), recording(&rec)));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] {
    return committed(topo, "counting") == static_cast<uint64_t>(batches * kPerBatch);
  }));
  EXPECT_FALSE(topo.stop(100ms));
  EXPECT_EQ(delivered(rec), 0u);
}

TEST(DiskBufferTest, StalledOutputCostsDiskNotMemoryAndInputsCheckpointPastDurableData) {
  constexpr int kBatches = 200;   // ~4 MB of messages against a 64 KiB memory queue
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  Topology topo(disk_config(fresh_dir("disk_stall"), counting(kBatches, &emitted),
                            recording(&rec)));
  ASSERT_TRUE(topo.start().is_ok());
  // The input never pauses: everything goes to disk, and once synced it is checkpointed although
  // the output delivered nothing.
  ASSERT_TRUE(eventually([&] { return emitted.load() == kBatches; }));
  ASSERT_TRUE(eventually([&] {
    return committed(topo, "counting") == static_cast<uint64_t>(kBatches * kPerBatch);
  }));
  EXPECT_EQ(delivered(rec), 0u);
  EXPECT_GT(metric("logship_output_buffer_bytes"), 2'000'000);
  // Memory holds only what was read back for delivery: about one delivery's worth.
  EXPECT_LT(metric("logship_output_queue_bytes"), 200 * 1024);

  open_gate(rec);
  ASSERT_TRUE(eventually([&] { return delivered(rec) == kBatches * kPerBatch; }));
  EXPECT_TRUE(topo.stop(5s));
  ASSERT_EQ(rec.offsets.size(), static_cast<std::size_t>(kBatches * kPerBatch));
  for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
  EXPECT_EQ(metric("logship_output_buffer_bytes"), 0);
}

TEST(DiskBufferTest, InputAcksWaitForTheSync) {
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  const std::string dir = fresh_dir("disk_sync");
  config::BufferOptions b;
  b.fsync_interval = config::Millis(3'600'000);
  {
    Topology topo(disk_config(dir, counting(20, &emitted), recording(&rec), b));
    ASSERT_TRUE(topo.start().is_ok());
    ASSERT_TRUE(eventually([&] { return emitted.load() == 20; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(committed(topo, "counting"), 0u);   // written, not yet durable
    // Stopping syncs: the final checkpoint passes everything even though nothing was delivered.
    EXPECT_FALSE(topo.stop(100ms));
  }
  CheckpointStore store;
  ASSERT_TRUE(store.open(dir).is_ok());
  ASSERT_TRUE(store.get("counting"));
  EXPECT_EQ(store.get("counting")->offset, 20u * kPerBatch);
  EXPECT_FALSE(store.get("buffer/out"));
}

TEST(DiskBufferTest, FsyncEveryBatchAcksWithoutWaiting) {
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  config::BufferOptions b;
  b.fsync = config::BufferFsync::kBatch;
  b.fsync_interval = config::Millis(3'600'000);
  Topology topo(disk_config(fresh_dir("disk_fsync_batch"), counting(20, &emitted),
                            recording(&rec), b));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return committed(topo, "counting") == 20u * kPerBatch; }));
  EXPECT_EQ(delivered(rec), 0u);
  open_gate(rec);
  ASSERT_TRUE(eventually([&] { return delivered(rec) == 20u * kPerBatch; }));
  EXPECT_TRUE(topo.stop(5s));
}

TEST(DiskBufferTest, RestartReplaysExactlyWhatWasNotDelivered) {
  const std::string dir = fresh_dir("disk_replay");
  fill_and_stop(dir, 50);
  {
    std::atomic<int> emitted{0};
    Recorder rec;
    Topology topo(disk_config(dir, counting(0, &emitted), recording(&rec)));
    ASSERT_TRUE(topo.start().is_ok());
    ASSERT_TRUE(eventually([&] { return delivered(rec) == 50u * kPerBatch; }));
    EXPECT_TRUE(topo.stop(5s));
    ASSERT_EQ(rec.offsets.size(), 50u * kPerBatch);
    for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
  }
  // Delivered data is not replayed again.
  std::atomic<int> emitted{0};
  Recorder rec;
  Topology topo(disk_config(dir, counting(0, &emitted), recording(&rec)));
  ASSERT_TRUE(topo.start().is_ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(rec.offsets.size(), 0u);
}

TEST(DiskBufferTest, CorruptRecordIsSkippedAndCountedTheRestDelivered) {
  const std::string dir = fresh_dir("disk_corrupt");
  fill_and_stop(dir, 30);
  const auto segs = segments(dir);
  ASSERT_EQ(segs.size(), 1u);
  {
    // One byte inside the tenth record (each holds one batch of similar size).
    const auto size = fs::file_size(segs[0]);
    int fd = ::open(segs[0].c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t at = static_cast<off_t>(size * 95 / 300);
    char c;
    ASSERT_EQ(::pread(fd, &c, 1, at), 1);
    c ^= 0x5A;
    ASSERT_EQ(::pwrite(fd, &c, 1, at), 1);
    ::close(fd);
  }
  const int64_t corrupt_before = metric("logship_output_buffer_corrupt_total");
  std::atomic<int> emitted{0};
  Recorder rec;
  Topology topo(disk_config(dir, counting(0, &emitted), recording(&rec)));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return delivered(rec) == 29u * kPerBatch; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(topo.stop(5s));
  EXPECT_EQ(rec.offsets.size(), 29u * kPerBatch);   // exactly one batch lost, the corrupt one
  EXPECT_EQ(metric("logship_output_buffer_corrupt_total"), corrupt_before + 1);
  // What arrived is in order and whole batches: offsets 0..2999 minus one batch of 100.
  std::set<uint64_t> got(rec.offsets.begin(), rec.offsets.end());
  EXPECT_EQ(got.size(), rec.offsets.size());
  for (std::size_t i = 1; i < rec.offsets.size(); ++i) {
    ASSERT_LT(rec.offsets[i - 1], rec.offsets[i]);
  }
  int missing_batches = 0;
  for (int b = 0; b < 30; ++b) {
    const bool present = got.count(static_cast<uint64_t>(b * kPerBatch)) > 0;
    for (int i = 0; i < kPerBatch; ++i) {
      ASSERT_EQ(got.count(static_cast<uint64_t>(b * kPerBatch + i)) > 0, present);
    }
    if (!present) ++missing_batches;
  }
  EXPECT_EQ(missing_batches, 1);
}

TEST(DiskBufferTest, DropOldestNeverBlocksKeepsTheNewestAndCountsWhatWent) {
  constexpr int kBatches = 150;   // ~3.3 MB encoded against a 1 MiB buffer
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  config::BufferOptions b;
  b.max_size = config::ByteSize(1u << 20);
  b.segment_size = config::ByteSize(64 * 1024);
  b.when_full = config::BufferWhenFull::kDropOldest;
  const int64_t dropped_before = metric("logship_output_dropped_events_total");
  Topology topo(disk_config(fresh_dir("disk_drop"), counting(kBatches, &emitted), recording(&rec),
                            b));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return emitted.load() == kBatches; }));
  EXPECT_LE(metric("logship_output_buffer_bytes"), (1 << 20) + 64 * 1024);
  open_gate(rec);
  const int64_t total = kBatches * kPerBatch;
  ASSERT_TRUE(eventually([&] {
    return static_cast<int64_t>(delivered(rec)) +
               (metric("logship_output_dropped_events_total") - dropped_before) ==
           total;
  }));
  EXPECT_TRUE(topo.stop(5s));
  const int64_t dropped = metric("logship_output_dropped_events_total") - dropped_before;
  EXPECT_GT(dropped, total / 2);
  // Delivered: no duplicates, in order, ending with the newest event. Batches read for delivery
  // before the drops began may come first; then a gap; then the newest suffix.
  std::set<uint64_t> got(rec.offsets.begin(), rec.offsets.end());
  EXPECT_EQ(got.size(), rec.offsets.size());
  for (std::size_t i = 1; i < rec.offsets.size(); ++i) {
    ASSERT_LT(rec.offsets[i - 1], rec.offsets[i]);
  }
  ASSERT_FALSE(rec.offsets.empty());
  EXPECT_EQ(rec.offsets.back(), static_cast<uint64_t>(total - 1));
}

TEST(DiskBufferTest, BlockPolicyPausesTheInputWhenFull) {
  constexpr int kBatches = 150;
  std::atomic<int> emitted{0};
  Recorder rec;
  rec.gate_open = false;
  config::BufferOptions b;
  b.max_size = config::ByteSize(1u << 20);
  b.segment_size = config::ByteSize(64 * 1024);
  Topology topo(disk_config(fresh_dir("disk_block"), counting(kBatches, &emitted),
                            recording(&rec), b));
  ASSERT_TRUE(topo.start().is_ok());
  ASSERT_TRUE(eventually([&] { return emitted.load() > 10; }));
  std::this_thread::sleep_for(300ms);
  const int paused_at = emitted.load();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(emitted.load(), paused_at);
  EXPECT_LT(paused_at, kBatches);
  EXPECT_LE(metric("logship_output_buffer_bytes"), (1 << 20) + 64 * 1024);
  open_gate(rec);
  ASSERT_TRUE(eventually([&] { return delivered(rec) == kBatches * kPerBatch; }));
  EXPECT_TRUE(topo.stop(5s));
  for (std::size_t i = 0; i < rec.offsets.size(); ++i) ASSERT_EQ(rec.offsets[i], i);
}

}  // namespace
}  // namespace logship
