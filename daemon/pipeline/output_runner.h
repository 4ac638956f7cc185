#pragma once
// Runs one output: a bounded queue counted in bytes, batching of queued batches into delivery
// calls, retry with backoff, dead-lettering of events that failed permanently, acknowledgement release and the
// standard metrics. Written once here so every output plugin is only an encoder plus a transport.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "daemon/buffer/disk_buffer.h"
#include "daemon/core/plugin_api.h"
#include "daemon/core/backoff.h"
#include "daemon/pipeline/dead_letter_file.h"
#include "daemon/runtime/metrics.h"
#include "daemon/runtime/tap_hub.h"

namespace logship {

struct RunnerOptions {
  uint64_t queue_max_bytes = 64ull << 20;
  std::size_t batch_max_events = 4096;
  uint64_t batch_max_bytes = 8ull << 20;
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{30000};
  // Set: batches go through a disk buffer in <state_dir>/buffer/<output>; queue_max_bytes then
  // bounds only what is read back and not yet delivered.
  std::optional<DiskBufferOptions> disk;
  // Bounds of <state_dir>/dlq/<output>.ndjson and its rotated files.
  DeadLetterLimits dead_letter;
};

class OutputRunner final : public OutputContext {
 public:
  // `store` keeps a disk buffer's restart point; needed only with options.disk.
  OutputRunner(std::string name, std::unique_ptr<Output> output, RunnerOptions options,
               std::string state_dir, CheckpointStore* store = nullptr);
  ~OutputRunner() override;

  Status start();
  // Blocks while the queue (or a block-policy disk buffer) has no room for a batch of about
  // `bytes`. False once `abort` is set, or once the runner is retired (then push to its
  // successor).
  bool wait_for_room(const std::atomic<bool>& abort, uint64_t bytes = 0);
  // Queues a batch whose acks already hold a reference for this output; the runner releases it
  // once delivered (or, with a disk buffer, once durable there).
  void push(SharedBatch batch);
  // Delivers what is queued until the deadline, then stops the plugin. True if all delivered.
  bool drain(TimePoint deadline);

  // A reload replaces this runner: wait_for_room() answers false from now on, so pushers turn
  // to the successor. Nothing else changes until hand_over().
  void retire();
  bool retired() const { return retired_.load(std::memory_order_relaxed); }
  // Memory queue only (no disk buffer): stops sending, waits until the deliveries in flight
  // ended (at most until `deadline`), stops the plugin and returns every batch not delivered,
  // oldest first, each still holding this output's acknowledgement reference: the successor
  // delivers them.
  std::vector<SharedBatch> hand_over(TimePoint deadline);
  bool has_disk_buffer() const { return options_.disk.has_value(); }

  uint64_t queued_bytes() const;
  // Steady-clock ns since deliveries have been failing without a success in between; 0 while
  // the output delivers. /ready turns false when this lasts too long.
  int64_t failing_since_ns() const { return failing_since_ns_.load(std::memory_order_relaxed); }
  // OutputContext
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return state_dir_; }
  Status dead_letter(const Event& e, const SourceInfo& source, PermanentError why,
                     std::string_view detail) override;
  // Events dead-lettered (written or dropped by the file's limit) by every runner of this
  // process since it started: the shutdown message reports them.
  static uint64_t dead_lettered_in_process();
  static uint64_t dead_letters_dropped_in_process();
  std::string dead_letter_path() const { return state_dir_ + "/dlq/" + name_ + ".ndjson"; }

 private:
  void run();
  // After stop_ is set: wakes and joins the worker, then stops the plugin (once).
  void join_worker_and_stop_output();
  void read_from_disk(std::unique_lock<std::mutex>& lock);
  void dispatch(std::vector<SharedBatch> batches, std::unique_lock<std::mutex>& lock);
  void on_done(const std::vector<SharedBatch>& batches, const DeliveryResult& result,
               TimePoint started);

  const std::string name_;
  const std::string labels_;   // output="<name>", every series of this output
  TapPoint* const tap_;         // "output:<name>": what is pushed to this output
  std::unique_ptr<Output> output_;
  const RunnerOptions options_;
  const std::string state_dir_;
  CheckpointStore* const store_;
  std::unique_ptr<DiskBuffer> disk_;
  std::atomic<bool> disk_failing_{false};
  const int max_in_flight_;
  Backoff backoff_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable room_cv_;
  std::condition_variable drained_cv_;
  std::deque<SharedBatch> ready_;
  std::vector<SharedBatch> retry_;
  TimePoint retry_due_{};
  uint32_t attempts_ = 0;
  int in_flight_ = 0;
  uint64_t bytes_ = 0;
  bool draining_ = false;
  bool handing_over_ = false;   // hand_over(): nothing new is dispatched
  std::atomic<bool> retired_{false};
  bool plugin_stopped_ = false;
  bool drained_ = false;
  bool stop_ = false;
  std::thread thread_;

  std::mutex dlq_mu_;
  std::unique_ptr<DeadLetterFile> dlq_;   // under dlq_mu_, opened at the first dead letter
  std::string dlq_line_;   // under dlq_mu_: reused for every dead-lettered event
  // Under dlq_mu_: events of deliveries not yet settled that were dead-lettered. A delivery
  // that succeeds counts them out of logship_output_events_total; one retried keeps them, so
  // the output's second attempt does not write them to the file again.
  std::unordered_set<const Event*> dead_events_;
  // dead_events_.size(), readable without the lock: deliveries without dead letters (nearly
  // all) settle without taking dlq_mu_.
  std::atomic<std::size_t> dead_pending_{0};

  std::atomic<uint64_t>& events_out_;
  std::atomic<uint64_t>& batches_out_;
  std::atomic<uint64_t>& retries_;
  // One series per PermanentError, indexed by its value; all exported from the start.
  std::vector<std::atomic<uint64_t>*> dead_lettered_;
  std::atomic<int64_t>& queue_bytes_;
  std::atomic<uint64_t>& bytes_out_;
  std::atomic<uint64_t>& dropped_;
  std::atomic<uint64_t>& dead_letters_dropped_;
  Histogram& latency_;
  std::atomic<int64_t> failing_since_ns_{0};
};

}  // namespace logship
