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

#include "daemon/registry/config_loader.h"
#include "daemon/pipeline/content_router.h"
#include "daemon/pipeline/output_runner.h"
#include "daemon/pipeline/stream_flusher.h"
#include "daemon/state/checkpoint_store.h"

namespace logship {

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

  struct Route {
    std::vector<ProcessorMaker> processors;
    std::vector<OutputRunner*> outputs;
    std::shared_ptr<const condition::Condition> condition;   // null: every event
    bool exclusive = false;
    bool unmatched = false;
  };

 private:
  class InputSlot;
  friend class InputSlot;

  config::Config cfg_;
  CheckpointStore store_;
  std::vector<std::unique_ptr<OutputRunner>> runners_;
  std::vector<Route> routes_;
  std::vector<std::vector<ProcessorMaker>> input_processors_;   // per input, before routing
  StreamFlusher flusher_;   // after routes_ and runners_: stops before they go
  std::vector<std::unique_ptr<InputSlot>> inputs_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abort_{false};   // past the drain deadline: emits give up

  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::thread ckpt_thread_;
  std::atomic<std::size_t> inputs_finished_{0};
  std::vector<int64_t> lost_at_start_;   // each input's lost bytes when this pipeline started
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
};

}  // namespace logship
