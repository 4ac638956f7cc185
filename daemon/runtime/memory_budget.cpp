#include "daemon/runtime/memory_budget.h"

#include <algorithm>

#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

// What the process needs besides its buffers and the standing costs it charges (followed files,
// container metadata): code, stacks, the batches being read and written, and the allocator's
// slack. Measured with 1,000 containers (bench/README.md, "Memory budget"): RSS rose up to
// 7 MiB above its stalled level while a backlog was read after the output recovered, on top
// of about 9 MiB at rest; 16 MiB let the peak touch the limit. The standing costs come on
// top, so 10,000 containers leave the buffers less room rather than push the process past
// its limit.
constexpr uint64_t kReserve = 20ull << 20;
// Buffers always get at least this much, however small the limit.
constexpr uint64_t kMinBuffers = 4ull << 20;

}  // namespace

std::string_view memory_part_name(MemoryPart p) {
  switch (p) {
    case MemoryPart::kOutputQueues: return "output_queues";
    case MemoryPart::kDiskReadBack: return "disk_read_back";
    case MemoryPart::kMultiline: return "multiline";
    case MemoryPart::kPartialLines: return "partial_lines";
    case MemoryPart::kReadBuffers: return "read_buffers";
    case MemoryPart::kKafkaQueue: return "kafka_queue";
    case MemoryPart::kPluginPending: return "docker_plugin_pending";
    case MemoryPart::kJournaldPending: return "journald_partial_lines";
    case MemoryPart::kRequestBodies: return "otlp_request_bodies";
    case MemoryPart::kDelayed: return "delayed";
    case MemoryPart::kFollowedFiles: return "followed_files";
    case MemoryPart::kContainerMetadata: return "container_metadata";
  }
  return "output_queues";
}

MemoryBudget& MemoryBudget::global() {
  static MemoryBudget b(true);
  return b;
}

MemoryBudget::MemoryBudget() : MemoryBudget(false) {}

MemoryBudget::MemoryBudget(bool exported) {
  for (std::size_t i = 0; i < kMemoryParts; ++i) {
    own_parts_[i].store(0, std::memory_order_relaxed);
    parts_[i] = exported ? &Metrics::global().gauge(
                               "logship_memory_bytes",
                               label("part", memory_part_name(kAllMemoryParts[i])),
                               "Bytes held by each kind of buffer, charged against "
                               "service.memory_limit")
                         : &own_parts_[i];
  }
  if (exported) {
    limit_gauge_ = &Metrics::global().gauge("logship_memory_limit_bytes", "",
                                            "service.memory_limit: the process's memory budget");
  }
  set_limit(64ull << 20);
}

void MemoryBudget::set_limit(uint64_t bytes) {
  limit_.store(bytes, std::memory_order_relaxed);
  buffer_limit_.store(std::max(kMinBuffers, bytes > kReserve ? bytes - kReserve : 0),
                      std::memory_order_relaxed);
  if (limit_gauge_ != nullptr) limit_gauge_->store(static_cast<int64_t>(bytes));
  cv_.notify_all();
}

uint64_t MemoryBudget::buffer_limit() const {
  const uint64_t base = buffer_limit_.load(std::memory_order_relaxed);
  const uint64_t standing = static_cast<uint64_t>(std::max<int64_t>(0, this->standing()));
  return std::max(kMinBuffers, base > standing ? base - standing : 0);
}

int64_t MemoryBudget::draining() const {
  return held(MemoryPart::kOutputQueues) + held(MemoryPart::kDiskReadBack) +
         held(MemoryPart::kKafkaQueue);
}

bool MemoryBudget::has_room(uint64_t bytes) const {
  // Bodies already taken are answered once delivered: they drain too.
  return fits(bytes) || draining() + held(MemoryPart::kRequestBodies) <= 0;
}

bool MemoryBudget::wait_for_room(uint64_t bytes, const std::atomic<bool>& abort) {
  auto draining = [this] { return this->draining() > 0; };
  if (fits(bytes) || !draining()) return !abort.load(std::memory_order_relaxed);
  waiting_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mu_);
  while (!fits(bytes) && draining() && !abort.load(std::memory_order_relaxed)) {
    // Releases notify without the lock (they are on the delivery path): a missed wake-up
    // costs at most this long.
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  waiting_.fetch_sub(1, std::memory_order_relaxed);
  return !abort.load(std::memory_order_relaxed);
}

SharedBatch share_charged(BatchPtr batch, MemoryPart part, MemoryBudget& budget) {
  const int64_t bytes = static_cast<int64_t>(batch->byte_size());
  budget.charge(part, bytes);
  return SharedBatch(batch.release(), [&budget, part, bytes](const Batch* b) {
    delete b;
    budget.charge(part, -bytes);
  });
}

}  // namespace logship
