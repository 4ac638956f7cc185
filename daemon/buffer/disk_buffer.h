#pragma once
// An output's disk buffer: batches given to the output are written to a spool in
// <state_dir>/buffer/<output>/ and read back for delivery, so an outage of any length costs disk
// (bounded by max_bytes), not memory, and survives restarts.
//
// Acknowledgement chain: a batch's reference for this output is held until the record is durable
// (fsync: batch -> right away; fsync: interval -> at the next sync), then released, so inputs
// checkpoint past it. Read batches carry this buffer's own acks; their contiguous delivered
// prefix frees spool room and is persisted in the checkpoint store as "buffer/<output>", from
// where a restart replays.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/buffer/batch_codec.h"
#include "daemon/buffer/spool.h"
#include "daemon/core/ack.h"
#include "daemon/core/clock.h"
#include "daemon/state/checkpoint_store.h"

namespace logship {

struct DiskBufferOptions {
  uint64_t max_bytes = 256ull << 20;
  uint64_t segment_bytes = 8ull << 20;
  bool fsync_every_batch = false;
  std::chrono::milliseconds fsync_interval{1000};
  FullPolicy when_full = FullPolicy::kBlock;
  std::atomic<uint64_t>* dropped_counter = nullptr;   // events drop_oldest dropped
};

class DiskBuffer {
 public:
  // `store` must outlive the buffer. Metrics are labelled with the output's name.
  static Result<std::unique_ptr<DiskBuffer>> open(const std::string& output,
                                                  const std::string& dir,
                                                  const DiskBufferOptions& o,
                                                  CheckpointStore* store);
  ~DiskBuffer();

  // False while a block-policy buffer has no room for about `bytes` more.
  bool has_room(uint64_t bytes) const;
  // Writes `b`. On success the buffer holds its own reference to b's acks until the record is
  // durable; the caller still releases the one it has. On error nothing was kept.
  Status append(const Batch& b);
  // Makes what was appended durable and releases the acks held for it: when the interval has
  // passed, or always with `force`. A failed sync keeps them held and is retried.
  Status sync(TimePoint now, bool force);
  // Reads buffered batches until `max_events` or `max_bytes` is reached or nothing is left.
  // Each carries an ack of this buffer; records that do not decode are counted and skipped.
  void read(std::size_t max_events, uint64_t max_bytes, std::vector<BatchPtr>* out);
  // True when the reader has taken everything written.
  bool fully_read() const;
  uint64_t unacked_bytes() const { return spool_->unacked_bytes(); }

 private:
  class Committer;
  DiskBuffer(const std::string& output, const DiskBufferOptions& o, CheckpointStore* store);
  // Releases the acks held for records now durable. Needs write_mu_.
  void release_synced_locked();

  const std::string output_;
  const std::string key_;
  const DiskBufferOptions o_;
  CheckpointStore* const store_;
  std::shared_ptr<Committer> committer_;
  std::unique_ptr<Spool> spool_;
  std::shared_ptr<AckTracker> tracker_;

  std::mutex write_mu_;
  AckSet unsynced_;   // input acks of records written but not yet synced
  TimePoint last_sync_{};

  // Reader state: only the output's runner thread reads.
  std::unique_ptr<SpoolReader> reader_;
  uint64_t cursor_ = 0;
  BatchDecoder decoder_;

  std::atomic<int64_t>& bytes_gauge_;
  std::atomic<uint64_t>& corrupt_;
  std::atomic<uint64_t>& errors_;
};

}  // namespace logship
