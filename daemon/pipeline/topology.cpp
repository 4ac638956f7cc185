#include "daemon/pipeline/topology.h"

#include <algorithm>
#include <future>

#include "daemon/core/block_pool.h"
#include "daemon/core/json_writer.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/container_series.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/metrics.h"
#include "daemon/runtime/tap_hub.h"

namespace logship {

namespace {

// One source stream: its ack tracker and its own instances of its routes' processors. The
// input's thread and the flusher's both call in; `mu_` keeps the processors single-threaded.
// The flusher may hold a stream for a moment after its input left a running pipeline (a
// reload), so the stream keeps its own copy of what the input's slot owns.
// A stream with one unconditional route hands its batches on whole; otherwise a ContentRouter
// splits each batch between the routes that take its events.
class StreamPipeline final : public FlushableStream {
 public:
  StreamPipeline(std::shared_ptr<const SourceInfo> source, std::shared_ptr<AckTracker> tracker,
                 TapPoint* input_tap, const std::vector<ProcessorMaker>& before_routing,
                 std::vector<TapPoint*> before_routing_taps,
                 const std::vector<std::shared_ptr<const Topology::Route>>& routes,
                 std::shared_ptr<const std::atomic<bool>> abort, std::atomic<uint64_t>& events_in,
                 std::atomic<uint64_t>& bytes_in, std::atomic<uint64_t>& unmatched)
      : source_(std::move(source)),
        tracker_(std::move(tracker)),
        input_tap_(input_tap),
        before_taps_(std::move(before_routing_taps)),
        abort_owner_(std::move(abort)),
        abort_(*abort_owner_),
        events_in_(events_in),
        bytes_in_(bytes_in) {
    for (const auto& make : before_routing) before_.push_back(make());
    std::vector<RouteRule> rules;
    for (const auto& r : routes) {
      Branch b{r, {}};
      for (const auto& make : r->processors) b.processors.push_back(make());
      branches_.push_back(std::move(b));
      rules.push_back(RouteRule{r->condition, r->exclusive, r->unmatched});
    }
    if (routes.size() > 1 || routes.front()->condition || routes.front()->unmatched) {
      router_ = std::make_unique<ContentRouter>(std::move(rules), &unmatched);
    }
  }

  BatchPtr new_batch(std::size_t expected_events) {
    return std::make_unique<Batch>(source_, expected_events);
  }

  bool emit(BatchPtr batch, Position end) {
    batch->acks().add(tracker_->track(std::move(end)));
    events_in_.fetch_add(batch->size(), std::memory_order_relaxed);
    uint64_t bytes = 0;
    for (const Event& e : batch->events()) bytes += e.message.size();
    bytes_in_.fetch_add(bytes, std::memory_order_relaxed);
    if (input_tap_->active()) input_tap_->offer(*batch);
    std::unique_lock lock(mu_);
    bool ok = run_before_routing(0, std::move(batch));
    while (ok && over_hold_limit()) ok = wait_for_release(lock);
    publish_next_flush();
    return ok;
  }

  bool flush(bool force) {
    std::lock_guard lock(mu_);
    return flush_locked(force);
  }

  bool try_flush(bool force) override {
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return true;
    return flush_locked(force);
  }

  std::optional<TimePoint> next_flush() {
    std::lock_guard lock(mu_);
    return next_flush_locked();
  }

  uint64_t unsettled() const { return tracker_->unsettled(); }
  std::optional<Position> committed() const { return tracker_->committed(); }
  bool keeps_state() const {
    if (!before_.empty()) return true;
    for (const Branch& b : branches_) {
      if (!b.processors.empty()) return true;
    }
    return false;
  }

 private:
  bool flush_locked(bool force) {
    TimePoint now = SteadyClock::now();
    bool ok = true;
    for (std::size_t i = 0; i < before_.size() && ok; ++i) {
      auto next = before_[i]->next_flush();
      if (!force && (!next || *next > now)) continue;
      BatchPtr out = new_batch(16);
      before_[i]->flush(*out, now, force);
      if (out->size() == 0 && out->acks().empty()) continue;
      tap(before_taps_[i], *out);
      ok = run_before_routing(i + 1, std::move(out));
    }
    for (Branch& b : branches_) {
      for (std::size_t i = 0; i < b.processors.size() && ok; ++i) {
        auto next = b.processors[i]->next_flush();
        if (!force && (!next || *next > now)) continue;
        BatchPtr out = new_batch(16);
        b.processors[i]->flush(*out, now, force);
        if (out->size() == 0 && out->acks().empty()) continue;
        tap(b.route->processor_taps[i], *out);
        ok = run_from(b, i + 1, std::move(out));
      }
    }
    publish_next_flush();
    return ok;
  }

  bool over_hold_limit() const {
    for (const auto& p : before_) {
      if (p->over_hold_limit()) return true;
    }
    for (const Branch& b : branches_) {
      for (const auto& p : b.processors) {
        if (p->over_hold_limit()) return true;
      }
    }
    return false;
  }

  // Backpressure from a processor's hold (a throttle in delay mode): the reader sleeps until
  // the hold's next release is due (the lock let go, so the flusher may release it meanwhile),
  // then flushes what came due. False once the drain deadline passed.
  bool wait_for_release(std::unique_lock<std::mutex>& lock) {
    constexpr auto kLongestSleep = std::chrono::milliseconds(50);
    const TimePoint now = SteadyClock::now();
    auto next = next_flush_locked();
    TimePoint until = now + kLongestSleep;
    if (next && *next < until) until = *next;
    lock.unlock();
    if (until > now) std::this_thread::sleep_until(until);
    lock.lock();
    if (abort_.load(std::memory_order_relaxed)) return false;
    return flush_locked(false);
  }

  std::optional<TimePoint> next_flush_locked() const {
    std::optional<TimePoint> best;
    for (const auto& p : before_) {
      auto n = p->next_flush();
      if (n && (!best || *n < *best)) best = n;
    }
    for (const Branch& b : branches_) {
      for (const auto& p : b.processors) {
        auto n = p->next_flush();
        if (n && (!best || *n < *best)) best = n;
      }
    }
    return best;
  }

  void publish_next_flush() {
    auto next = next_flush_locked();
    publish_due(next ? std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                next->time_since_epoch())
                                                .count())
                     : 0);
  }

  struct Branch {
    std::shared_ptr<const Topology::Route> route;
    std::vector<std::unique_ptr<Processor>> processors;
  };

  // The input's own processors, then the routes.
  bool run_before_routing(std::size_t first, BatchPtr batch) {
    for (std::size_t i = first; i < before_.size(); ++i) {
      before_[i]->process(*batch);
      tap(before_taps_[i], *batch);
    }
    if (!router_) return run_from(branches_.front(), 0, std::move(batch));
    if (batch->size() == 0) {
      batch->acks().release();   // filtered out before routing: handled
      return true;
    }
    router_->split(std::move(batch), &parts_);
    bool ok = true;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      if (parts_[i] && !run_from(branches_[i], 0, std::move(parts_[i]))) ok = false;
    }
    return ok;
  }

  bool run_from(Branch& branch, std::size_t first, BatchPtr batch) {
    const Topology::Route& route = *branch.route;
    for (std::size_t i = first; i < branch.processors.size(); ++i) {
      branch.processors[i]->process(*batch);
      tap(route.processor_taps[i], *batch);
    }
    if (batch->size() == 0) {
      batch->acks().release();   // nothing left to deliver: settled (holders keep their refs)
      return true;
    }
    // Wait for room everywhere before handing the batch to anyone, so an abandoned batch was
    // given to no output and simply stays un-acked.
    if (!MemoryBudget::global().wait_for_room(batch->byte_size(), abort_)) {
      return false;
    }
    // The runners of the moment, held until pushed: a reload that swaps one waits for that.
    held_.clear();
    for (const auto& slot : route.outputs) held_.push_back(slot->current());
    for (std::size_t i = 0; i < held_.size(); ++i) {
      while (!held_[i]->wait_for_room(abort_, batch->byte_size())) {
        if (abort_.load(std::memory_order_relaxed)) {
          held_.clear();
          return false;
        }
        held_[i].reset();   // first: the reload waits until no pusher holds the old runner
        held_[i] = route.outputs[i]->current();   // retired by a reload: its successor
      }
    }
    SharedBatch shared = share_charged(std::move(batch), MemoryPart::kOutputQueues);
    shared->acks().retain(static_cast<int32_t>(route.outputs.size()));
    for (auto& out : held_) out->push(shared);
    shared->acks().release();   // the reference the batch was created with
    held_.clear();
    return true;
  }

  // Nothing but a relaxed load unless someone taps that point.
  static void tap(TapPoint* point, const Batch& batch) {
    if (point->active() && batch.size() > 0) point->offer(batch);
  }

  std::shared_ptr<const SourceInfo> source_;
  std::shared_ptr<AckTracker> tracker_;
  TapPoint* const input_tap_;
  const std::vector<TapPoint*> before_taps_;
  std::vector<std::shared_ptr<OutputRunner>> held_;   // reused by every push
  // True once emits must give up: past the drain deadline of the pipeline or of this input.
  const std::shared_ptr<const std::atomic<bool>> abort_owner_;
  const std::atomic<bool>& abort_;
  std::atomic<uint64_t>& events_in_;
  std::atomic<uint64_t>& bytes_in_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Processor>> before_;
  std::vector<Branch> branches_;
  std::unique_ptr<ContentRouter> router_;
  std::vector<BatchPtr> parts_;   // reused by every split
};

// What the input holds; the flusher holds the pipeline weakly beside it.
class StreamPipelineHandle final : public StreamHandle {
 public:
  explicit StreamPipelineHandle(std::shared_ptr<StreamPipeline> p) : p_(std::move(p)) {}
  BatchPtr new_batch(std::size_t expected_events) override {
    return p_->new_batch(expected_events);
  }
  bool emit(BatchPtr batch, Position end) override { return p_->emit(std::move(batch), end); }
  bool flush(bool force) override { return p_->flush(force); }
  std::optional<TimePoint> next_flush() const override { return p_->next_flush(); }
  uint64_t unsettled() const override { return p_->unsettled(); }
  std::optional<Position> committed() const override { return p_->committed(); }
  bool keeps_state() const override { return p_->keeps_state(); }

 private:
  std::shared_ptr<StreamPipeline> p_;
};

}  // namespace

class Topology::InputSlot final : public InputContext {
 public:
  InputSlot(Topology& topo, const config::ComponentConfig& cfg,
            std::vector<ProcessorMaker> before_routing, std::vector<TapPoint*> before_routing_taps,
            std::vector<std::shared_ptr<const Route>> routes)
      : topo_(topo),
        name_(cfg.name),
        tap_(TapHub::global().point("input:" + cfg.name)),
        before_routing_(std::move(before_routing)),
        before_routing_taps_(std::move(before_routing_taps)),
        routes_(std::move(routes)),
        input_(cfg.make_input()),
        events_in_(Metrics::global().counter("logship_input_events_total", label("input", name_),
                                             "Events read by the input")),
        bytes_in_(Metrics::global().counter("logship_input_bytes_total", label("input", name_),
                                            "Message bytes of the events read by the input")),
        unmatched_(Metrics::global().counter(
            "logship_route_unmatched_total", label("input", name_),
            "Events of the input that no route took (and no unmatched route): dropped")) {}

  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return topo_.cfg_.service.state_dir; }
  std::unique_ptr<StreamHandle> open_stream(std::shared_ptr<const SourceInfo> source,
                                            bool checkpointed) override {
    auto tracker = AckTracker::create(source->key, checkpointed ? &topo_.store_ : nullptr);
    remember(tracker);
    auto p = std::make_shared<StreamPipeline>(std::move(source), std::move(tracker), tap_,
                                              before_routing_, before_routing_taps_, routes_,
                                              abort_, events_in_, bytes_in_, unmatched_);
    // A stream without processors never holds anything back: nothing for the flusher, which
    // would otherwise keep the block of every stream an idle input dropped (weakly held).
    if (p->keeps_state()) topo_.flusher_.add(p);
    return std::make_unique<StreamPipelineHandle>(std::move(p));
  }
  std::optional<Position> saved_position(const std::string& key) const override {
    return topo_.store_.get(key);
  }
  std::vector<std::pair<std::string, Position>> saved_positions(
      std::string_view prefix) const override {
    return topo_.store_.with_prefix(prefix);
  }
  void forget_position(const std::string& key) override { topo_.store_.forget(key); }
  bool stopping() const override {
    return stopping_.load(std::memory_order_relaxed) ||
           topo_.stopping_.load(std::memory_order_relaxed);
  }
  void finished() override {
    if (!finished_.exchange(true)) topo_.inputs_finished_.fetch_add(1);
  }

  Input& input() { return *input_; }
  bool has_finished() const { return finished_.load(); }
  // This input alone stops (a reload): stopping() answers true from now on.
  void begin_stop() { stopping_.store(true); }
  // Past the deadline: the input's emits and the flushes of its streams give up.
  void abort_emits() { abort_->store(true); }

  // Batches of this input's streams still on their way to the outputs.
  uint64_t unsettled() const {
    std::lock_guard lock(trackers_mu_);
    uint64_t n = 0;
    for (const auto& w : trackers_) {
      if (auto t = w.lock()) n += t->unsettled();
    }
    return n;
  }

 private:
  Topology& topo_;
  std::string name_;
  TapPoint* const tap_;
  const std::vector<ProcessorMaker> before_routing_;
  const std::vector<TapPoint*> before_routing_taps_;
  const std::vector<std::shared_ptr<const Route>> routes_;
  std::unique_ptr<Input> input_;
  std::atomic<uint64_t>& events_in_;
  std::atomic<uint64_t>& bytes_in_;
  std::atomic<uint64_t>& unmatched_;
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopping_{false};
  const std::shared_ptr<std::atomic<bool>> abort_ = std::make_shared<std::atomic<bool>>(false);
  mutable std::mutex trackers_mu_;
  std::vector<std::weak_ptr<AckTracker>> trackers_;   // one per stream opened; pruned as they go
  std::size_t live_trackers_ = 0;

  void remember(const std::shared_ptr<AckTracker>& tracker) {
    std::lock_guard lock(trackers_mu_);
    // An input with churning streams (containers come and go) must not grow this forever.
    if (trackers_.size() >= 2 * live_trackers_ + 64) {
      std::erase_if(trackers_, [](const auto& w) { return w.expired(); });
      live_trackers_ = trackers_.size();
    }
    trackers_.push_back(tracker);
  }
};

namespace {
// Counted by the tailer of the docker, cri and file inputs.
constexpr std::string_view kLostBytesMetric = "logship_input_lost_bytes_total";
}  // namespace

bool Topology::ready(std::chrono::milliseconds max_failing, std::string* why) const {
  if (!started_.load() || stopping_.load()) {
    *why = "pipeline not running";
    return false;
  }
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
          .count();
  std::lock_guard outputs_lock(outputs_mu_);
  for (const auto& slot : outputs_) {
    const std::shared_ptr<OutputRunner> r = slot->current();
    int64_t since = r->failing_since_ns();
    if (since != 0 && now_ns - since > std::chrono::nanoseconds(max_failing).count()) {
      *why = "output " + r->name() + " failing for " +
             std::to_string((now_ns - since) / 1000000000) + "s";
      return false;
    }
  }
  if (cfg_.service.ready_fails_on_loss) {
    std::lock_guard lock(lost_mu_);
    for (std::size_t i = 0; i < cfg_.inputs.size() && i < lost_at_start_.size(); ++i) {
      const std::string& name = cfg_.inputs[i].name;
      const int64_t lost =
          Metrics::global().value(kLostBytesMetric, label("input", name)) - lost_at_start_[i];
      if (lost > 0) {
        *why = "input " + name + " lost " + std::to_string(lost) +
               " bytes (rotated or deleted before they were read); a reload or restart "
               "acknowledges it";
        return false;
      }
    }
  }
  return true;
}

void Topology::acknowledge_losses() {
  std::lock_guard lock(lost_mu_);
  acknowledge_losses_locked();
}

void Topology::acknowledge_losses_locked() {
  lost_at_start_.clear();
  for (const auto& c : cfg_.inputs) {
    lost_at_start_.push_back(Metrics::global().value(kLostBytesMetric, label("input", c.name)));
  }
}

void Topology::wait_inputs_finished(const std::function<bool()>& stop_waiting) {
  while (inputs_finished_.load() < cfg_.inputs.size()) {
    if (stop_waiting()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Topology::Topology(config::Config cfg) : cfg_(std::move(cfg)) {}

Topology::~Topology() {
  if (started_ && !stopped_) stop(std::chrono::milliseconds(0));
}

Status Topology::start() {
  // Before any component makes its series: each carries its plugin type.
  for (const auto& c : cfg_.processors) {
    Metrics::global().set_component_type("processor", c.name, c.type);
  }
  for (const auto& c : cfg_.outputs) Metrics::global().set_component_type("output", c.name, c.type);
  // A loss before this pipeline (acknowledged by the reload that made it) does not count.
  acknowledge_losses();
  LOGSHIP_TRY(store_.open(cfg_.service.state_dir).with_context("state_dir"));
  MemoryBudget::global().set_limit(cfg_.service.memory_limit.bytes);
  // Freed batch blocks kept for reuse are outside the buffers' share: a sixteenth of the limit
  // at most, within the reserve kept for the allocator's slack.
  BlockPool::global().set_keep_limit(
      std::min<std::size_t>(BlockPool::kDefaultKeep, cfg_.service.memory_limit.bytes / 16));
  ContainerSeries::set_max_series(static_cast<std::size_t>(cfg_.service.max_container_series));
  {
    std::lock_guard lock(outputs_mu_);
    for (const auto& oc : cfg_.outputs) {
      outputs_.push_back(std::make_shared<OutputSlot>(make_runner(oc)));
    }
  }
  make_routes();
  publish_tap_points();
  for (auto& slot : outputs_) LOGSHIP_TRY(slot->runner_->start());
  started_ = true;
  ckpt_thread_ = std::thread([this] {
    // Age of the checkpoint file relative to the committed positions: 0 while writes succeed,
    // growing while they fail (then a crash would re-read that much).
    auto& age = Metrics::global().gauge("logship_checkpoint_age_seconds", "",
                                        "Seconds since checkpoints were last written successfully");
    TimePoint last_ok = SteadyClock::now();
    age.store(0);
    log::RateLimit error_log(3, std::chrono::seconds(60));   // a full disk fails every interval
    std::unique_lock lock(ckpt_mu_);
    while (!ckpt_stop_) {
      ckpt_cv_.wait_for(lock, cfg_.service.checkpoint_interval);
      lock.unlock();
      Status s = store_.flush();
      TimePoint now = SteadyClock::now();
      if (s.is_ok()) {
        last_ok = now;
      } else {
        uint64_t suppressed = 0;
        if (error_log.allow(&suppressed)) {
          log::error("checkpoint", "cannot write checkpoints",
                     log::kv("error", s.message()) +
                         log::kv("suppressed", static_cast<int64_t>(suppressed)));
        }
      }
      age.store(std::chrono::duration_cast<std::chrono::seconds>(now - last_ok).count());
      lock.lock();
    }
  });
  flusher_.start();
  for (std::size_t i = 0; i < cfg_.inputs.size(); ++i) LOGSHIP_TRY(start_input(cfg_, i));
  log::info("daemon", "pipeline started",
            log::kv("inputs", static_cast<int64_t>(inputs_.size())) +
                log::kv("outputs", static_cast<int64_t>(outputs_.size())) +
                log::kv("state_dir", cfg_.service.state_dir));
  return Status::ok();
}

std::shared_ptr<OutputSlot> Topology::output_slot(const std::string& name) const {
  for (std::size_t i = 0; i < cfg_.outputs.size(); ++i) {
    if (cfg_.outputs[i].name == name) return outputs_[i];
  }
  return nullptr;
}

void Topology::make_routes() {
  routes_.clear();
  for (const auto& rc : cfg_.routes) {
    auto r = std::make_shared<Route>();
    processors_named(rc.processors, &r->processors, &r->processor_taps);
    for (const auto& oname : rc.outputs) r->outputs.push_back(output_slot(oname));
    r->condition = rc.condition.compiled;
    r->exclusive = rc.exclusive;
    r->unmatched = rc.unmatched;
    routes_.push_back(std::move(r));
  }
}

void Topology::processors_named(const std::vector<std::string>& names,
                                std::vector<ProcessorMaker>* makers,
                                std::vector<TapPoint*>* taps) const {
  for (const auto& pname : names) {
    for (const auto& pc : cfg_.processors) {
      if (pc.name != pname) continue;
      makers->push_back(pc.make_processor);
      taps->push_back(TapHub::global().point("processor:" + pname));
    }
  }
}

void Topology::publish_tap_points() const {
  std::vector<std::string> points;
  for (const auto& oc : cfg_.outputs) points.push_back("output:" + oc.name);
  for (const auto& ic : cfg_.inputs) points.push_back("input:" + ic.name);
  for (const auto& pc : cfg_.processors) points.push_back("processor:" + pc.name);
  TapHub::global().set_live_points(std::move(points));
}

Status Topology::start_input(const config::Config& from, std::size_t index) {
  const config::ComponentConfig& ic = from.inputs[index];
  // Before the slot makes the input's series: each carries its plugin type.
  Metrics::global().set_component_type("input", ic.name, ic.type);
  // Route indexes of `from` are this pipeline's: the route lists are the same.
  std::vector<std::shared_ptr<const Route>> routes;
  if (index < from.input_routes.size()) {
    for (std::size_t ri : from.input_routes[index]) routes.push_back(routes_[ri]);
  } else {
    routes.push_back(routes_[from.input_route[index]]);
  }
  std::vector<ProcessorMaker> makers;
  std::vector<TapPoint*> taps;
  processors_named(ic.processors, &makers, &taps);
  inputs_.push_back(std::make_unique<InputSlot>(*this, ic, std::move(makers), std::move(taps),
                                                std::move(routes)));
  Status s = inputs_.back()->input().start(*inputs_.back());
  if (!s.is_ok()) {
    inputs_.pop_back();
    return s.with_context("input " + ic.name);
  }
  return Status::ok();
}

bool Topology::stop_input(InputSlot& slot, TimePoint deadline) {
  slot.begin_stop();
  // On a helper thread: an input blocked on a full queue must not hold the deadline.
  auto stopped = std::async(std::launch::async, [&slot] { slot.input().stop(); });
  bool clean = true;
  if (stopped.wait_until(deadline) != std::future_status::ready) {
    clean = false;
    slot.abort_emits();
  }
  stopped.wait();
  // Its events still on their way settle (and commit their positions) as the outputs deliver.
  while (clean && slot.unsettled() > 0) {
    if (SteadyClock::now() >= deadline) {
      clean = false;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return clean;
}

void Topology::stop_inputs(const std::vector<std::string>& names, TimePoint deadline) {
  for (const std::string& name : names) {
    auto it = std::find_if(inputs_.begin(), inputs_.end(),
                           [&](const auto& in) { return in->name() == name; });
    if (it == inputs_.end()) continue;   // it had failed to start
    if (!stop_input(**it, deadline)) {
      log::warn("reload", "input did not settle before the drain deadline; its undelivered "
                          "events stay un-acked and are read again if it starts again",
                log::kv("input", name));
    }
    // A flush of one of its streams still under way (the flusher's) gives up instead of waiting
    // for room at an output that may be going.
    (*it)->abort_emits();
    if ((*it)->has_finished()) inputs_finished_.fetch_sub(1);
    inputs_.erase(it);
    log::info("reload", "input stopped while the pipeline runs", log::kv("input", name));
  }
}

Status Topology::reconfigure(const config::Config& next, const config::ConfigDiff& diff,
                             std::chrono::milliseconds drain_timeout) {
  if (!diff.in_place) return Status::internal("this change needs a new pipeline");
  LOGSHIP_TRY(replace_outputs(next, diff.changed_outputs, drain_timeout));
  const TimePoint deadline = SteadyClock::now() + drain_timeout;
  std::vector<std::string> stopping = diff.removed_inputs;
  stopping.insert(stopping.end(), diff.restarted_inputs.begin(), diff.restarted_inputs.end());
  stop_inputs(stopping, deadline);
  // What a stop commits, written now: a crash after this reload resumes from here.
  if (Status s = store_.flush(); !s.is_ok()) {
    log::error("checkpoint", "cannot write checkpoints", log::kv("error", s.message()));
  }
  // The outputs in `next`'s order: kept slots (their runners swapped above or untouched), new
  // ones started; removed ones drained once the inputs below run again.
  std::vector<std::shared_ptr<OutputSlot>> outputs, removed;
  for (const auto& oc : next.outputs) {
    std::shared_ptr<OutputSlot> slot = output_slot(oc.name);
    if (!slot) {
      Metrics::global().set_component_type("output", oc.name, oc.type);
      slot = std::make_shared<OutputSlot>(make_runner(oc));
      if (Status s = slot->runner_->start(); !s.is_ok()) return s.with_context("output " + oc.name);
      log::info("reload", "output added while the pipeline runs", log::kv("output", oc.name));
    }
    outputs.push_back(std::move(slot));
  }
  for (const std::string& name : diff.removed_outputs) removed.push_back(output_slot(name));
  for (const auto& pc : next.processors) {
    Metrics::global().set_component_type("processor", pc.name, pc.type);
  }
  {
    // ready() reads the outputs, and the inputs beside their losses.
    std::scoped_lock lock(outputs_mu_, lost_mu_);
    outputs_ = std::move(outputs);
    cfg_.outputs = next.outputs;
    cfg_.processors = next.processors;
    cfg_.routes = next.routes;
    cfg_.inputs = next.inputs;
    cfg_.input_route = next.input_route;
    cfg_.input_routes = next.input_routes;
    acknowledge_losses_locked();
  }
  if (diff.rewired) make_routes();
  publish_tap_points();
  for (std::size_t i = 0; i < cfg_.inputs.size(); ++i) {
    const std::string& name = cfg_.inputs[i].name;
    auto named = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), name) != v.end();
    };
    if (!named(diff.restarted_inputs) && !named(diff.added_inputs)) continue;
    LOGSHIP_TRY(start_input(cfg_, i));
    log::info("reload", "input started while the pipeline runs", log::kv("input", name));
  }
  // Only stopped inputs took these; their events settled above (or were given up).
  for (const auto& slot : removed) {
    if (!slot) continue;
    std::shared_ptr<OutputRunner> runner = slot->current();
    runner->retire();
    if (!runner->drain(deadline)) {
      log::warn("reload", "a removed output did not deliver everything before the drain "
                          "deadline; those events stay un-acked",
                log::kv("output", runner->name()));
    }
    log::info("reload", "output removed while the pipeline runs",
              log::kv("output", runner->name()));
  }
  return Status::ok();
}

std::shared_ptr<OutputRunner> Topology::make_runner(const config::ComponentConfig& oc) {
  RunnerOptions o;
  o.queue_max_bytes = cfg_.service.queue_max_bytes.bytes;
  o.batch_max_events = static_cast<std::size_t>(cfg_.service.batch_max_events);
  o.batch_max_bytes = cfg_.service.batch_max_bytes.bytes;
  o.retry_initial = cfg_.service.retry_initial;
  o.retry_max = cfg_.service.retry_max;
  const config::BufferOptions& b = oc.buffer;
  if (b.type == config::BufferType::kDisk) {
    DiskBufferOptions d;
    d.max_bytes = b.max_size.bytes != 0 ? b.max_size.bytes : 256ull << 20;
    d.segment_bytes = b.segment_size.bytes;
    d.fsync_every_batch = b.fsync == config::BufferFsync::kBatch;
    d.fsync_interval = b.fsync_interval;
    d.when_full = b.when_full == config::BufferWhenFull::kDropOldest ? FullPolicy::kDropOldest
                                                                     : FullPolicy::kBlock;
    o.disk = d;
  } else if (b.max_size.bytes != 0) {
    o.queue_max_bytes = b.max_size.bytes;
  }
  o.dead_letter.max_file_bytes = oc.dead_letter.max_file_size.bytes;
  o.dead_letter.max_files = static_cast<int>(oc.dead_letter.max_files);
  o.dead_letter.drop_oldest = oc.dead_letter.when_full == config::DeadLetterWhenFull::kDropOldest;
  return std::make_shared<OutputRunner>(oc.name, oc.make_output(), o, cfg_.service.state_dir,
                                        &store_);
}

Status Topology::replace_outputs(const config::Config& next,
                                 const std::vector<std::string>& names,
                                 std::chrono::milliseconds drain_timeout) {
  for (const std::string& name : names) {
    std::size_t index = 0;
    while (index < cfg_.outputs.size() && cfg_.outputs[index].name != name) ++index;
    auto found = std::find_if(next.outputs.begin(), next.outputs.end(),
                              [&](const auto& oc) { return oc.name == name; });
    if (index == cfg_.outputs.size() || found == next.outputs.end()) {
      return Status::internal("output " + name + " is not in both configs");
    }
    OutputSlot& slot = *outputs_[index];
    std::lock_guard swap(slot.mu_);   // pushers of this output wait here until the swap ends
    std::shared_ptr<OutputRunner> old = slot.runner_;
    old->retire();
    // Pushers that took the old runner before the lock give it back once pushed (or turned away
    // by retire()); then nothing can reach it but this.
    while (old.use_count() > 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const TimePoint deadline = SteadyClock::now() + drain_timeout;
    std::vector<SharedBatch> queued;
    if (old->has_disk_buffer()) {
      // One writer per buffer directory: the old runner closes it before the new one opens it.
      old->drain(deadline);
    } else {
      queued = old->hand_over(deadline);
    }
    Metrics::global().set_component_type("output", found->name, found->type);
    std::shared_ptr<OutputRunner> fresh = make_runner(*found);
    Status s = fresh->start();
    const config::ComponentConfig* runs = &*found;
    if (!s.is_ok()) {
      log::error("reload", "the output's new settings do not start; its previous ones run again",
                 log::kv("output", name) + log::kv("error", s.message()));
      Metrics::global().set_component_type("output", name, cfg_.outputs[index].type);
      fresh = make_runner(cfg_.outputs[index]);
      runs = &cfg_.outputs[index];
      if (Status again = fresh->start(); !again.is_ok()) {
        // Nothing can deliver this output's events: they stay queued in `queued` and go
        // un-acked when the caller rebuilds the pipeline.
        slot.runner_ = std::move(fresh);
        return s.with_context("output " + name + " (and its previous settings: " +
                              again.message() + ")");
      }
    }
    // Oldest first, before any new batch: the order the output delivers stays the order read.
    for (SharedBatch& b : queued) fresh->push(std::move(b));
    log::info("reload", "output replaced while the pipeline runs",
              log::kv("output", name) +
                  log::kv("handed_over_batches", static_cast<int64_t>(queued.size())));
    slot.runner_ = std::move(fresh);
    if (runs != &cfg_.outputs[index]) cfg_.outputs[index] = *runs;
    if (!s.is_ok()) {
      return s.with_context("output " + name);
    }
  }
  return Status::ok();
}

void Topology::abort_emits() {
  for (auto& in : inputs_) in->abort_emits();
}

bool Topology::stop(std::chrono::milliseconds drain_timeout) {
  if (stopped_) return true;
  stopped_ = true;
  const TimePoint deadline = SteadyClock::now() + drain_timeout;
  stopping_.store(true);
  // Inputs stop on a helper thread: one blocked on a full queue must not hold the deadline.
  auto inputs_done = std::async(std::launch::async, [this] {
    for (auto& in : inputs_) in->input().stop();
  });
  bool clean = true;
  if (inputs_done.wait_until(deadline) != std::future_status::ready) {
    clean = false;
    abort_emits();
  }
  inputs_done.wait();
  // Streams whose input left them open (or never flushes) give up what they hold now.
  flusher_.stop();
  for (auto& slot : outputs_) {
    if (!slot->current()->drain(deadline)) clean = false;
  }
  abort_emits();
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (ckpt_thread_.joinable()) ckpt_thread_.join();
  Status s = store_.flush();
  if (!s.is_ok()) {
    log::error("checkpoint", "final checkpoint write failed", log::kv("error", s.message()));
    clean = false;
  }
  inputs_.clear();
  return clean;
}

}  // namespace logship
