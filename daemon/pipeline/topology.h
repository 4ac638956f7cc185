#pragma once
// The running pipeline: inputs, per-stream processor chains, output runners, the checkpoint
// store, and the ordered shutdown (inputs stop -> processors flush -> outputs drain until the
// deadline -> final checkpoint write).
#include <atomic>
#include <condition_variable>
#include <memory>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/registry/config_diff.h"
#include "daemon/registry/config_loader.h"
#include "daemon/pipeline/content_router.h"
#include "daemon/pipeline/output_runner.h"
#include "daemon/pipeline/stream_flusher.h"
#include "daemon/state/checkpoint_store.h"

namespace logship {

// Where a route finds an output: the runner of the moment. A reload that changes only outputs'
// settings swaps the runner here while everything else keeps running.
class OutputSlot {
 public:
  explicit OutputSlot(std::shared_ptr<OutputRunner> runner) : runner_(std::move(runner)) {}
  std::shared_ptr<OutputRunner> current() const {
    std::lock_guard lock(mu_);
    return runner_;
  }

 private:
  friend class Topology;
  mutable std::mutex mu_;   // held by a swap from retiring the old runner to starting the new
  std::shared_ptr<OutputRunner> runner_;
};

class Topology {
 public:
  explicit Topology(config::Config cfg);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  Status start();
  // True when every input stopped and every output drained before the deadline.
  bool stop(std::chrono::milliseconds drain_timeout);

  CheckpointStore& checkpoints() { return store_; }
  bool all_inputs_finished() const { return inputs_finished_.load() >= cfg_.inputs.size(); }
  // Started, not stopping, and no output has failed every delivery for longer than
  // `max_failing` (nor, with service.ready_fails_on_loss, has an input lost data since this
  // pipeline started). On false, *why says which output or input.
  bool ready(std::chrono::milliseconds max_failing, std::string* why) const;
  // Blocks until every input called finished(), or `stop_waiting` returns true (polled).
  void wait_inputs_finished(const std::function<bool()>& stop_waiting);

  // Replaces the runners of the named outputs with ones built from `next` (whose inputs,
  // processors, routes and pipeline options are this pipeline's: config::diff_configs said so).
  // Inputs, processors and the other outputs keep running. Per output: pushers turn to the slot
  // and wait there; a memory queue is handed over whole to the new runner (deliveries in
  // flight end first, until `drain_timeout`); a disk buffer is drained until `drain_timeout`
  // and its directory opened by the new runner, which reads on where the old one stopped.
  // On a failure the output's previous settings run again and the error is returned.
  Status replace_outputs(const config::Config& next, const std::vector<std::string>& names,
                         std::chrono::milliseconds drain_timeout);

  // Takes `next` while running (diff_configs(running, next) said `diff`, and diff.in_place):
  // swaps the changed outputs' runners (as replace_outputs), stops the removed and restarted
  // inputs, starts the added outputs, makes the routes anew when `diff.rewired`, starts the
  // restarted and added inputs and drains the removed outputs. Unchanged inputs keep their
  // streams, processors' state and routes; unchanged outputs their queues, buffers and open
  // files. A stopped input's events on their way settle first (until `drain_timeout`), so its
  // positions are committed and it resumes there. On an error (an output or input that does
  // not start) the pipeline is left part-way: the caller rebuilds it.
  Status reconfigure(const config::Config& next, const config::ConfigDiff& diff,
                     std::chrono::milliseconds drain_timeout);

  // A reload that keeps this pipeline acknowledges the inputs' losses so far, as a new
  // pipeline would (service.ready_fails_on_loss).
  void acknowledge_losses();

  struct Route {
    std::vector<ProcessorMaker> processors;
    std::vector<TapPoint*> processor_taps;   // "processor:<name>", one per processor
    std::vector<std::shared_ptr<OutputSlot>> outputs;
    std::shared_ptr<const condition::Condition> condition;   // null: every event
    bool exclusive = false;
    bool unmatched = false;
  };

 private:
  class InputSlot;
  friend class InputSlot;

  std::shared_ptr<OutputRunner> make_runner(const config::ComponentConfig& oc);
  void processors_named(const std::vector<std::string>& names, std::vector<ProcessorMaker>* makers,
                        std::vector<TapPoint*>* taps) const;
  void publish_tap_points() const;
  // Makes and starts the slot of `from.inputs[index]`.
  Status start_input(const config::Config& from, std::size_t index);
  // Routes of cfg_.routes, over the output slots of the moment.
  void make_routes();
  std::shared_ptr<OutputSlot> output_slot(const std::string& name) const;
  // Stops the named inputs (they leave inputs_); false when one did not settle in time.
  void stop_inputs(const std::vector<std::string>& names, TimePoint deadline);
  // True when the input stopped and its events settled before `deadline`.
  bool stop_input(InputSlot& slot, TimePoint deadline);
  // Past a drain deadline: every emit and flush gives up (each input's streams hold their
  // input's flag, which outlives the pipeline's slot for them).
  void abort_emits();
  void acknowledge_losses_locked();   // under lost_mu_

  config::Config cfg_;
  CheckpointStore store_;
  mutable std::mutex outputs_mu_;   // the list (ready() reads it while a reload adds or removes)
  std::vector<std::shared_ptr<OutputSlot>> outputs_;   // in cfg_.outputs order
  // In cfg_.routes order. Shared: an input started before a reload that made them anew keeps
  // those it started with, and its streams hold them.
  std::vector<std::shared_ptr<const Route>> routes_;
  StreamFlusher flusher_;   // after routes_ and runners_: stops before they go
  std::vector<std::unique_ptr<InputSlot>> inputs_;
  std::atomic<bool> stopping_{false};

  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::thread ckpt_thread_;
  std::atomic<std::size_t> inputs_finished_{0};
  mutable std::mutex lost_mu_;
  std::vector<int64_t> lost_at_start_;   // under lost_mu_: each input's lost bytes at the start
                                         // (or the last reload that kept this pipeline)
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace logship
