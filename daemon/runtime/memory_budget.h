#pragma once
// One process-wide memory budget (service.memory_limit). Every buffer that holds events
// charges the part it belongs to: output queues, the disk buffer's read-back, multiline and
// partial-line holds, input read buffers, the Kafka client's queue, the docker_plugin FIFOs'
// pending bytes, journald's held partial lines, the otlp input's request bodies (and their
// decompressed copies), throttle delays. Inputs pause in StreamHandle::emit before the budget
// is exceeded, the way they pause for a full output queue, and resume as outputs deliver.
// /metrics shows logship_memory_bytes{part=...} and logship_memory_limit_bytes.
//
// Accounting is cheap by design: holders charge differences once per batch (MemoryCharge), each
// a relaxed atomic add; nothing is counted per event.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "daemon/core/batch.h"

namespace logship {

enum class MemoryPart : unsigned char {
  kOutputQueues,   // batches queued for or in flight to an output (memory buffers)
  kDiskReadBack,   // batches read back from a disk buffer, not yet delivered
  kMultiline,      // groups a multiline processor holds across batches
  kPartialLines,   // Docker/CRI partial chunks waiting for their last part
  kReadBuffers,    // input read buffers and incomplete lines waiting for their '\n'
  kKafkaQueue,     // librdkafka's copies of produced messages awaiting their delivery report
  kPluginPending,  // docker_plugin FIFOs: a frame being read, a line being merged, records
                   // the spool refused
  kJournaldPending,   // journald: Docker partial lines held for their last part
  kRequestBodies,     // otlp input: request bodies received and not answered yet
  kDelayed,           // events a throttle in delay mode holds back until its key has tokens
  // What the process keeps per followed file and per container however quiet they are
  // (estimated from measurements, see bench/README.md): not a buffer, so it never makes a
  // reader wait, but it leaves the buffers that much less of the limit.
  kFollowedFiles,       // the tailer's state of each file (names, position, watch, stream)
  kContainerMetadata,   // each container's names and labels
};
inline constexpr MemoryPart kAllMemoryParts[] = {
    MemoryPart::kOutputQueues,  MemoryPart::kDiskReadBack,    MemoryPart::kMultiline,
    MemoryPart::kPartialLines,  MemoryPart::kReadBuffers,     MemoryPart::kKafkaQueue,
    MemoryPart::kPluginPending, MemoryPart::kJournaldPending, MemoryPart::kRequestBodies,
    MemoryPart::kDelayed,       MemoryPart::kFollowedFiles,   MemoryPart::kContainerMetadata};
constexpr bool is_standing_cost(MemoryPart p) {
  return p == MemoryPart::kFollowedFiles || p == MemoryPart::kContainerMetadata;
}
inline constexpr std::size_t kMemoryParts = std::size(kAllMemoryParts);
std::string_view memory_part_name(MemoryPart p);

class MemoryBudget {
 public:
  // The process's budget, exported to /metrics.
  static MemoryBudget& global();
  // A budget of its own (tests); not exported.
  MemoryBudget();

  // Total bytes of the process; buffers may use buffer_limit() of it (the rest is for code,
  // the standing costs of files and containers, and the allocator's slack).
  void set_limit(uint64_t bytes);
  uint64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  uint64_t buffer_limit() const;

  // Adds (or, negative, releases) bytes of a part.
  void charge(MemoryPart p, int64_t delta) {
    parts_[static_cast<std::size_t>(p)]->fetch_add(delta, std::memory_order_relaxed);
    (is_standing_cost(p) ? standing_ : used_).fetch_add(delta, std::memory_order_relaxed);
    if (delta < 0 && waiting_.load(std::memory_order_relaxed) > 0) cv_.notify_all();
  }
  // Bytes held by buffers (every part but the standing costs).
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  // Bytes of the standing costs (followed files, container metadata).
  int64_t standing() const { return standing_.load(std::memory_order_relaxed); }
  int64_t held(MemoryPart p) const {
    return parts_[static_cast<std::size_t>(p)]->load(std::memory_order_relaxed);
  }
  // True when `bytes` more stay within the buffers' share.
  bool fits(uint64_t bytes) const {
    return used() + static_cast<int64_t>(bytes) <= static_cast<int64_t>(buffer_limit());
  }
  // Blocks a reader that is about to hand `bytes` more to the outputs while they would not fit
  // and the outputs hold something they will release by delivering it. Holds that only the
  // reader itself can release (multiline groups, partial lines) never make it wait: that could
  // wait forever. False once `abort` is set.
  bool wait_for_room(uint64_t bytes, const std::atomic<bool>& abort);
  // For a receiver that cannot pause its sender (an HTTP server): whether to take `bytes` more
  // now. False while they would not fit and buffers hold something that delivering releases
  // (the answer is then "retry later": 429); true when nothing would, so a single request
  // larger than the budget still goes through rather than never.
  bool has_room(uint64_t bytes) const;
  // Readers waiting in wait_for_room right now (tests, metrics).
  int waiting() const { return waiting_.load(std::memory_order_relaxed); }

 private:
  MemoryBudget(bool exported);
  // Held bytes that outputs release by delivering.
  int64_t draining() const;
  std::atomic<int64_t> own_parts_[kMemoryParts];   // a test budget's counters
  std::atomic<int64_t>* parts_[kMemoryParts];      // the exported gauges, or own_parts_
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> standing_{0};
  std::atomic<uint64_t> limit_{0};
  std::atomic<uint64_t> buffer_limit_{0};   // the limit less the reserve
  std::atomic<int64_t>* limit_gauge_ = nullptr;
  std::atomic<int> waiting_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// What one holder (a multiline processor, a file decoder) has charged; set() charges the
// difference from the last call, the destructor releases the rest.
class MemoryCharge {
 public:
  explicit MemoryCharge(MemoryPart part, MemoryBudget& budget = MemoryBudget::global())
      : budget_(&budget), part_(part) {}
  ~MemoryCharge() { set(0); }
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;

  void set(std::size_t bytes) {
    const int64_t delta = static_cast<int64_t>(bytes) - charged_;
    if (delta == 0) return;
    budget_->charge(part_, delta);
    charged_ = static_cast<int64_t>(bytes);
  }
  int64_t charged() const { return charged_; }

 private:
  MemoryBudget* budget_;
  MemoryPart part_;
  int64_t charged_ = 0;
};

// Shares a batch that is charged to `part` until its last holder lets it go: one charge per
// batch however many outputs hold it.
SharedBatch share_charged(BatchPtr batch, MemoryPart part,
                          MemoryBudget& budget = MemoryBudget::global());

}  // namespace logship
