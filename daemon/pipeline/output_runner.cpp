#include "daemon/pipeline/output_runner.h"

#include <unistd.h>

#include <cerrno>

#include "daemon/core/dead_letter_record.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"

namespace logship {
namespace {

log::RateLimit g_retry_log(3, std::chrono::seconds(10));
log::RateLimit g_buffer_log(3, std::chrono::seconds(10));
log::RateLimit g_dead_letter_log(3, std::chrono::seconds(10));
log::RateLimit g_dead_letter_full_log(3, std::chrono::seconds(60));
std::atomic<uint64_t> g_dead_lettered{0};
std::atomic<uint64_t> g_dead_letters_dropped{0};

}  // namespace

OutputRunner::OutputRunner(std::string name, std::unique_ptr<Output> output,
                           RunnerOptions options, std::string state_dir,
                           CheckpointStore* store)
    : name_(std::move(name)),
      labels_(label("output", name_)),
      tap_(TapHub::global().point("output:" + name_)),
      output_(std::move(output)),
      options_(options),
      state_dir_(std::move(state_dir)),
      store_(store),
      max_in_flight_(std::max(1, output_->max_in_flight())),
      backoff_(options.retry_initial, options.retry_max),
      events_out_(Metrics::global().counter("logship_output_events_total", labels_,
                                            "Events delivered by the output")),
      batches_out_(Metrics::global().counter("logship_output_batches_total", labels_,
                                             "Delivery calls that succeeded")),
      retries_(Metrics::global().counter("logship_output_retries_total", labels_,
                                         "Delivery calls that failed and will be retried")),
      queue_bytes_(Metrics::global().gauge("logship_output_queue_bytes", labels_,
                                           "Bytes queued or in flight")),
      bytes_out_(Metrics::global().counter("logship_output_bytes_total", labels_,
                                           "Message bytes of the events delivered (before "
                                           "encoding)")),
      // Only a disk buffer with when_full: drop_oldest drops; the series is always exported so
      // dashboards can alert on it.
      dropped_(Metrics::global().counter("logship_output_dropped_events_total",
                                         labels_,
                                         "Events dropped by a drop policy (0: none is set)")),
      dead_letters_dropped_(Metrics::global().counter(
          "logship_output_dead_letters_dropped_total", labels_,
          "Dead letters lost to the dead-letter files' limit (dead_letter.max_files x "
          "max_file_size): the newest not written (drop_newest) or the oldest file deleted "
          "(drop_oldest)")),
      latency_(Metrics::global().histogram("logship_output_latency_seconds", labels_,
                                           "Duration of delivery calls that succeeded",
                                           Metrics::latency_buckets())) {
  for (PermanentError why : kAllPermanentErrors) {
    dead_lettered_.push_back(&Metrics::global().counter(
        "logship_output_dead_lettered_total",
        labels_ + "," + label("error", permanent_error_name(why)),
        "Events that can never be delivered, written to the dead-letter file and acknowledged"));
  }
}

OutputRunner::~OutputRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t OutputRunner::dead_lettered_in_process() { return g_dead_lettered.load(); }
uint64_t OutputRunner::dead_letters_dropped_in_process() { return g_dead_letters_dropped.load(); }

Status OutputRunner::start() {
  if (options_.disk) {
    if (store_ == nullptr) return Status::internal("output " + name_ + ": no checkpoint store");
    DiskBufferOptions o = *options_.disk;
    o.dropped_counter = &dropped_;   // drop_oldest counts in the output's own series
    auto d = DiskBuffer::open(name_, state_dir_ + "/buffer/" + name_, o, store_);
    if (!d.is_ok()) return d.status().with_context("output " + name_);
    disk_ = std::move(d).value();
  }
  LOGSHIP_TRY(output_->start(*this).with_context("output " + name_));
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

bool OutputRunner::wait_for_room(const std::atomic<bool>& abort, uint64_t bytes) {
  std::unique_lock lock(mu_);
  // With a disk buffer, memory is the bound only while the disk fails and batches go by memory.
  auto full = [&] {
    if (!disk_) return bytes_ >= options_.queue_max_bytes;
    return !disk_->has_room(bytes) ||
           (disk_failing_.load(std::memory_order_relaxed) && bytes_ >= options_.queue_max_bytes);
  };
  while (full()) {
    if (abort.load(std::memory_order_relaxed) || stop_ || retired()) return false;
    room_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return !abort.load(std::memory_order_relaxed) && !retired();
}

void OutputRunner::push(SharedBatch batch) {
  if (tap_->active()) tap_->offer(*batch);
  if (disk_) {
    Status s = disk_->append(*batch);
    if (s.is_ok()) {
      disk_failing_.store(false, std::memory_order_relaxed);
      batch->acks().release();   // the buffer holds its own reference until the record is durable
      work_cv_.notify_one();
      return;
    }
    // The disk failed (full, read-only, gone): this batch goes by memory instead, so nothing is
    // lost and the pipeline keeps moving while memory bounds hold.
    disk_failing_.store(true, std::memory_order_relaxed);
    uint64_t suppressed = 0;
    if (g_buffer_log.allow(&suppressed)) {
      log::error("buffer", "cannot write the disk buffer; delivering from memory",
                 log::kv("output", name_) + log::kv("error", s.message()) +
                     log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
  }
  {
    std::lock_guard lock(mu_);
    bytes_ += batch->byte_size();
    queue_bytes_.store(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
    ready_.push_back(std::move(batch));
  }
  work_cv_.notify_one();
}

uint64_t OutputRunner::queued_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

void OutputRunner::run() {
  constexpr auto kTick = std::chrono::milliseconds(100);
  std::unique_lock lock(mu_);
  TimePoint next_tick = SteadyClock::now() + kTick;
  while (!stop_) {
    TimePoint now = SteadyClock::now();
    if (!retry_.empty() && now >= retry_due_ && in_flight_ == 0 && !handing_over_) {
      for (auto it = retry_.rbegin(); it != retry_.rend(); ++it) ready_.push_front(std::move(*it));
      retry_.clear();
    }
    if (now >= next_tick) {
      lock.unlock();
      output_->tick(now);
      if (disk_) (void)disk_->sync(now, false);
      lock.lock();
      next_tick = now + kTick;
      continue;
    }
    // While a retry is pending nothing new is sent: order is kept and a failing server is not
    // hammered with fresh data.
    if (!ready_.empty() && retry_.empty() && in_flight_ < max_in_flight_ && !handing_over_) {
      std::vector<SharedBatch> take;
      std::size_t events = 0;
      uint64_t bytes = 0;
      while (!ready_.empty()) {
        const SharedBatch& b = ready_.front();
        if (!take.empty() && (events + b->size() > options_.batch_max_events ||
                              bytes + b->byte_size() > options_.batch_max_bytes)) {
          break;
        }
        events += b->size();
        bytes += b->byte_size();
        take.push_back(std::move(ready_.front()));
        ready_.pop_front();
      }
      dispatch(std::move(take), lock);
      continue;
    }
    // Read-back counts against the memory budget; one batch is always allowed, so an output
    // whose budget share went to holds elsewhere still makes progress.
    if (disk_ && ready_.empty() && retry_.empty() && bytes_ < options_.queue_max_bytes &&
        !disk_->fully_read() &&
        (in_flight_ == 0 || MemoryBudget::global().fits(options_.batch_max_bytes))) {
      read_from_disk(lock);
      if (!ready_.empty()) continue;
    }
    if (draining_ && ready_.empty() && retry_.empty() && in_flight_ == 0 &&
        (!disk_ || disk_->fully_read())) {
      drained_ = true;
      drained_cv_.notify_all();
    }
    TimePoint wake = next_tick;
    if (!retry_.empty() && retry_due_ < wake) wake = retry_due_;
    work_cv_.wait_until(lock, wake);
  }
}

void OutputRunner::read_from_disk(std::unique_lock<std::mutex>& lock) {
  std::vector<BatchPtr> read;
  lock.unlock();
  disk_->read(options_.batch_max_events, options_.batch_max_bytes, &read);
  lock.lock();
  for (BatchPtr& b : read) {
    bytes_ += b->byte_size();
    ready_.push_back(share_charged(std::move(b), MemoryPart::kDiskReadBack));
  }
  queue_bytes_.store(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
}

void OutputRunner::dispatch(std::vector<SharedBatch> batches, std::unique_lock<std::mutex>& lock) {
  ++in_flight_;
  lock.unlock();
  auto held = std::make_shared<std::vector<SharedBatch>>(std::move(batches));
  TimePoint started = SteadyClock::now();
  output_->deliver(*held, [this, held, started](DeliveryResult r) { on_done(*held, r, started); });
  lock.lock();
}

void OutputRunner::on_done(const std::vector<SharedBatch>& batches, const DeliveryResult& result,
                           TimePoint started) {
  if (result.kind == DeliveryResult::Kind::kRetry) {
    retries_.fetch_add(1, std::memory_order_relaxed);
    int64_t expected = 0;
    failing_since_ns_.compare_exchange_strong(
        expected, std::chrono::duration_cast<std::chrono::nanoseconds>(
                      started.time_since_epoch()).count() | 1);
    uint32_t attempt;
    {
      // attempts_ under mu_: with max_in_flight > 1 several transport threads complete at once.
      std::lock_guard lock(mu_);
      --in_flight_;
      attempt = attempts_++;
      retry_due_ = SteadyClock::now() + backoff_.next(attempt);
      for (const auto& b : batches) retry_.push_back(b);
    }
    work_cv_.notify_all();
    uint64_t suppressed = 0;
    if (g_retry_log.allow(&suppressed)) {
      log::warn("output", "delivery failed; will retry",
                log::kv("output", name_) + log::kv("reason", result.reason) +
                    log::kv("attempt", static_cast<int64_t>(attempt + 1)) +
                    log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
    return;
  }
  std::size_t events = 0;
  uint64_t bytes = 0;
  uint64_t message_bytes = 0;
  if (dead_pending_.load(std::memory_order_acquire) == 0) {
    for (const auto& b : batches) {
      bytes += b->byte_size();
      events += b->size();
      for (const Event& e : b->events()) message_bytes += e.message.size();
    }
  } else {
    // Dead-lettered events are settled, not delivered: they stay out of events_total.
    std::lock_guard lock(dlq_mu_);
    for (const auto& b : batches) {
      bytes += b->byte_size();
      for (const Event& e : b->events()) {
        if (dead_events_.erase(&e) != 0) continue;
        ++events;
        message_bytes += e.message.size();
      }
    }
    dead_pending_.store(dead_events_.size(), std::memory_order_release);
  }
  for (const auto& b : batches) b->acks().release();
  failing_since_ns_.store(0, std::memory_order_relaxed);
  events_out_.fetch_add(events, std::memory_order_relaxed);
  bytes_out_.fetch_add(message_bytes, std::memory_order_relaxed);
  batches_out_.fetch_add(1, std::memory_order_relaxed);
  latency_.observe(std::chrono::duration<double>(SteadyClock::now() - started).count());
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    attempts_ = 0;
    bytes_ -= bytes;
    queue_bytes_.store(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
  }
  room_cv_.notify_all();
  work_cv_.notify_all();
}

bool OutputRunner::drain(TimePoint deadline) {
  bool ok;
  {
    std::unique_lock lock(mu_);
    draining_ = true;
    // The inputs have stopped: what the buffer holds is made durable now so their final
    // checkpoints can pass it whatever the output does until the deadline.
    if (disk_) (void)disk_->sync(SteadyClock::now(), true);
    work_cv_.notify_all();
    ok = drained_cv_.wait_until(lock, deadline, [this] { return drained_; });
    stop_ = true;
  }
  join_worker_and_stop_output();
  if (!ok) {
    std::lock_guard lock(mu_);
    if (disk_) {
      log::warn("output", "drain deadline passed; undelivered data stays in the disk buffer",
                log::kv("output", name_) +
                    log::kv("buffered_bytes", static_cast<int64_t>(disk_->unacked_bytes())));
    } else {
      log::warn("output", "drain deadline passed; undelivered data stays un-acked",
                log::kv("output", name_) + log::kv("queued_bytes", static_cast<int64_t>(bytes_)));
    }
  }
  return ok;
}

void OutputRunner::join_worker_and_stop_output() {
  work_cv_.notify_all();
  room_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Deliveries still in flight end here, retried ones landing in retry_.
  if (!plugin_stopped_) output_->stop();
  plugin_stopped_ = true;
}

void OutputRunner::retire() {
  retired_.store(true, std::memory_order_relaxed);
  room_cv_.notify_all();
}

std::vector<SharedBatch> OutputRunner::hand_over(TimePoint deadline) {
  {
    std::unique_lock lock(mu_);
    handing_over_ = true;
    while (in_flight_ > 0 && SteadyClock::now() < deadline) {
      // on_done notifies room_cv_ as each delivery ends.
      room_cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    stop_ = true;
  }
  join_worker_and_stop_output();
  std::lock_guard lock(mu_);
  std::vector<SharedBatch> out;
  out.reserve(retry_.size() + ready_.size());
  for (auto& b : retry_) out.push_back(std::move(b));
  for (auto& b : ready_) out.push_back(std::move(b));
  retry_.clear();
  ready_.clear();
  bytes_ = 0;
  queue_bytes_.store(0, std::memory_order_relaxed);
  return out;
}

Status OutputRunner::dead_letter(const Event& e, const SourceInfo& source, PermanentError why,
                                 std::string_view detail) {
  std::lock_guard lock(dlq_mu_);
  // Already settled by an earlier attempt of this delivery (retried for its other events).
  if (dead_events_.contains(&e)) return Status::ok();
  if (!dlq_) {
    LOGSHIP_TRY(make_dirs(state_dir_ + "/dlq").with_context("dead-letter file of output " + name_));
    dlq_ = std::make_unique<DeadLetterFile>(dead_letter_path(), options_.dead_letter);
  }
  std::string& line = dlq_line_;
  line.clear();
  dead_letter::encode(line, name_, permanent_error_name(why), detail, e, source);
  DeadLetterFile::Written w;
  LOGSHIP_TRY(dlq_->write(line, &w).with_context("output " + name_));
  dead_events_.insert(&e);
  dead_pending_.store(dead_events_.size(), std::memory_order_release);
  dead_lettered_[static_cast<std::size_t>(why)]->fetch_add(1, std::memory_order_relaxed);
  g_dead_lettered.fetch_add(1, std::memory_order_relaxed);
  const uint64_t lost = w.dropped_old + (w.dropped_new ? 1 : 0);
  if (lost > 0) {
    dead_letters_dropped_.fetch_add(lost, std::memory_order_relaxed);
    g_dead_letters_dropped.fetch_add(lost, std::memory_order_relaxed);
    uint64_t suppressed = 0;
    if (g_dead_letter_full_log.allow(&suppressed)) {
      log::error("output",
                 w.dropped_new ? "dead-letter files full; dropping the newest dead letters "
                                 "(when_full: drop_newest)"
                               : "dead-letter files full; deleted the oldest file "
                                 "(when_full: drop_oldest)",
                 log::kv("output", name_) + log::kv("file", dlq_->path()) +
                     log::kv("dropped", static_cast<int64_t>(lost)) +
                     log::kv("hint", "logship dead-letters list|replay") +
                     log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
  }
  uint64_t suppressed = 0;
  if (g_dead_letter_log.allow(&suppressed)) {
    log::warn("output", "event can never be delivered; dead-lettered",
              log::kv("output", name_) + log::kv("error", permanent_error_name(why)) +
                  log::kv("reason", detail) + log::kv("file", dlq_->path()) +
                  log::kv("suppressed", static_cast<int64_t>(suppressed)));
  }
  return Status::ok();
}

}  // namespace logship
