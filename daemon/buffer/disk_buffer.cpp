#include "daemon/buffer/disk_buffer.h"

#include "daemon/core/json_writer.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

log::RateLimit g_sync_log(3, std::chrono::seconds(10));
log::RateLimit g_decode_log(5, std::chrono::seconds(10));

}  // namespace

// Delivered prefixes free spool room and become the restart point. Shared with the tracker:
// a batch an output finishes after the buffer closed (past a drain deadline) finds it detached.
class DiskBuffer::Committer final : public CommitSink {
 public:
  explicit Committer(DiskBuffer* b) : b_(b) {}
  void commit(const std::string& key, const Position& pos) override {
    std::lock_guard lock(mu_);
    if (b_ == nullptr) return;
    b_->spool_->commit(pos.offset);
    b_->store_->commit(key, pos);
    b_->bytes_gauge_.store(static_cast<int64_t>(b_->spool_->unacked_bytes()),
                           std::memory_order_relaxed);
  }
  void detach() {
    std::lock_guard lock(mu_);
    b_ = nullptr;
  }

 private:
  std::mutex mu_;
  DiskBuffer* b_;
};

DiskBuffer::DiskBuffer(const std::string& output, const DiskBufferOptions& o,
                       CheckpointStore* store)
    : output_(output),
      key_("buffer/" + output),
      o_(o),
      store_(store),
      committer_(std::make_shared<Committer>(this)),
      bytes_gauge_(Metrics::global().gauge("logship_output_buffer_bytes", label("output", output),
                                           "Bytes in the output's disk buffer not yet delivered")),
      corrupt_(Metrics::global().counter(
          "logship_output_buffer_corrupt_total", label("output", output),
          "Corrupt disk-buffer regions or records skipped (bad checksum, length or encoding)")),
      errors_(Metrics::global().counter(
          "logship_output_buffer_errors_total", label("output", output),
          "Disk-buffer writes or syncs that failed (data stayed un-acked or went by memory)")) {}

DiskBuffer::~DiskBuffer() {
  // Whatever is not synced stays un-acked: the inputs re-read it.
  committer_->detach();
}

Result<std::unique_ptr<DiskBuffer>> DiskBuffer::open(const std::string& output,
                                                     const std::string& dir,
                                                     const DiskBufferOptions& o,
                                                     CheckpointStore* store) {
  std::unique_ptr<DiskBuffer> b(new DiskBuffer(output, o, store));
  SpoolOptions so;
  so.max_bytes = o.max_bytes;
  so.segment_bytes = std::max<uint64_t>(4096, std::min(o.segment_bytes, o.max_bytes / 4));
  so.when_full = o.when_full;
  so.durable = true;
  so.weigh = &BatchDecoder::weight;
  so.dropped_counter = o.dropped_counter;
  so.corrupt_counter = &b->corrupt_;
  so.log_component = "buffer";
  const uint64_t committed = store->get(b->key_).value_or(Position{}).offset;
  auto spool = Spool::open(dir, so, committed);
  if (!spool.is_ok()) return spool.status().with_context("disk buffer " + dir);
  b->spool_ = std::move(spool).value();
  b->tracker_ = AckTracker::create(b->key_, std::shared_ptr<CommitSink>(b->committer_));
  b->reader_ = std::make_unique<SpoolReader>(*b->spool_, true);
  b->cursor_ = b->spool_->committed();
  b->last_sync_ = SteadyClock::now();
  const uint64_t pending = b->spool_->unacked_bytes();
  b->bytes_gauge_.store(static_cast<int64_t>(pending), std::memory_order_relaxed);
  if (pending > 0) {
    log::info("buffer", "replaying undelivered data from the disk buffer",
              log::kv("output", output) + log::kv("bytes", static_cast<int64_t>(pending)));
  }
  return b;
}

bool DiskBuffer::has_room(uint64_t bytes) const {
  return o_.when_full != FullPolicy::kBlock || spool_->has_room(bytes);
}

Status DiskBuffer::append(const Batch& b) {
  // Encoding happens outside the lock, in a buffer each input thread keeps.
  thread_local BatchEncoder encoder;
  thread_local std::string record;
  encoder.encode(b, record);
  std::lock_guard lock(write_mu_);
  // Block policy: has_room() was checked before, but other inputs may have filled the gap since;
  // forcing bounds the overshoot by one batch per input. Drop policy: the spool makes room.
  const Spool::Append r = spool_->append_now(record, o_.when_full == FullPolicy::kBlock);
  if (r != Spool::Append::kOk) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return Status::unavailable("cannot write the disk buffer in " + spool_->dir());
  }
  bytes_gauge_.store(static_cast<int64_t>(spool_->unacked_bytes()), std::memory_order_relaxed);
  if (o_.fsync_every_batch) {
    Status s = spool_->sync();
    if (!s.is_ok()) {
      // The record is written but not durable: hold the acks for the next successful sync.
      errors_.fetch_add(1, std::memory_order_relaxed);
      b.acks().share_into(unsynced_);
      return Status::ok();
    }
    release_synced_locked();
    return Status::ok();
  }
  b.acks().share_into(unsynced_);
  return Status::ok();
}

Status DiskBuffer::sync(TimePoint now, bool force) {
  std::lock_guard lock(write_mu_);
  if (!force && now - last_sync_ < o_.fsync_interval) return Status::ok();
  last_sync_ = now;
  if (unsynced_.empty()) return Status::ok();
  Status s = spool_->sync();
  if (!s.is_ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    uint64_t suppressed = 0;
    if (g_sync_log.allow(&suppressed)) {
      log::error("buffer", "disk buffer sync failed; inputs do not advance until it works",
                 log::kv("output", output_) + log::kv("error", s.message()) +
                     log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
    return s;
  }
  release_synced_locked();
  return Status::ok();
}

void DiskBuffer::release_synced_locked() {
  unsynced_.release();
  unsynced_ = AckSet();
}

void DiskBuffer::read(std::size_t max_events, uint64_t max_bytes, std::vector<BatchPtr>* out) {
  std::size_t events = 0;
  uint64_t bytes = 0;
  uint64_t at = 0;
  std::string_view payload;
  while (events < max_events && bytes < max_bytes && reader_->next(&cursor_, &at, &payload)) {
    AckRef ack = tracker_->track(Position{cursor_, {}});
    Result<BatchPtr> decoded = decoder_.decode(payload);
    if (!decoded.is_ok()) {
      corrupt_.fetch_add(1, std::memory_order_relaxed);
      uint64_t suppressed = 0;
      if (g_decode_log.allow(&suppressed)) {
        log::error("buffer", "disk buffer record does not decode; skipped",
                   log::kv("output", output_) + log::kv("offset", static_cast<int64_t>(at)) +
                       log::kv("error", decoded.status().message()) +
                       log::kv("suppressed", static_cast<int64_t>(suppressed)));
      }
      ack->release();   // settles: the restart point may pass it
      continue;
    }
    BatchPtr batch = std::move(decoded).value();
    batch->acks().add(std::move(ack));
    events += batch->size();
    bytes += batch->byte_size();
    out->push_back(std::move(batch));
  }
}

bool DiskBuffer::fully_read() const { return cursor_ >= spool_->end(); }

}  // namespace logship
