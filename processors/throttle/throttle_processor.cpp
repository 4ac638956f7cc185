// The throttle processor: a token bucket per key (e.g. per container): `rate` events a second,
// bursts up to `burst`. The buckets are shared by every stream the processor runs on, so a key
// may span streams (one image, many containers).
//
// Over the limit, `mode: drop` drops events and counts them. `mode: delay` holds them back in a
// queue per key (delay_queue.h) and lets them go as the key's bucket refills, from the next
// batch of the stream or from the flusher (next_flush), so only that key's lines arrive late;
// the other keys of the stream pass as before. A key with held events passes nothing new ahead
// of them, so each key keeps its order. The hold is charged to the memory budget and bounded by
// max_delayed_bytes: over it the stream's reader waits (over_hold_limit), as for a full output
// queue, until tokens released enough; nothing is dropped.
#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "config/enum_option.h"
#include "daemon/core/clock.h"
#include "daemon/core/field_template.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "processors/common/drop_events.h"
#include "processors/throttle/delay_queue.h"

namespace logship::plugins {
namespace {

enum class ThrottleMode { kDrop, kDelay };
constexpr config::EnumNames<ThrottleMode, 2> enum_names(ThrottleMode) {
  return {{{"drop", ThrottleMode::kDrop}, {"delay", ThrottleMode::kDelay}}};
}

struct ThrottleOptions {
  double rate = 0;
  int64_t burst = 0;
  std::string key = "{container_name}";
  int64_t max_keys = 10000;
  ThrottleMode mode = ThrottleMode::kDrop;
  config::ByteSize max_delayed_bytes = config::operator""_MiB(4);

  static const config::OptionSchema<ThrottleOptions>& schema() {
    using S = config::OptionSchema<ThrottleOptions>;
    static const auto s =
        S{}.required("rate", &ThrottleOptions::rate,
                     "Events per second each key may pass on average.",
                     config::Check<double>{[](const double& v) -> Status {
                                             return v > 0 ? Status::ok()
                                                          : Status::invalid("must be above 0");
                                           },
                                           "> 0"})
            .add("burst", &ThrottleOptions::burst,
                 "Events a key may pass at once after a quiet spell; 0 means the rate (at least "
                 "1).",
                 config::at_least<int64_t>(0, "0"))
            .add("key", &ThrottleOptions::key,
                 "Template naming the bucket of an event: {container_name}, {image}, {input}, "
                 "any field ({level}); \"\" for one bucket.")
            .add("max_keys", &ThrottleOptions::max_keys,
                 "Buckets kept at most; full buckets (idle keys) are forgotten first.",
                 config::at_least<int64_t>(1, "1"))
            .add("mode", &ThrottleOptions::mode,
                 "Over the limit: drop = events are dropped and counted; delay = the key's events "
                 "are held back and pass as its bucket refills (late but complete, in order; "
                 "other keys unaffected).")
            .add("max_delayed_bytes", &ThrottleOptions::max_delayed_bytes,
                 "delay: events held per stream at most (charged to service.memory_limit); "
                 "beyond, the stream's reading pauses until tokens release them.",
                 config::at_least(config::ByteSize(1024), "1KiB"));
    return s;
  }
};

void append_raw(std::string* out, std::string_view v) { out->append(v); }

struct Bucket {
  double tokens = 0;
  TimePoint last{};
};

using throttle::StringHash;

struct ThrottleSetup {
  double rate = 0;
  double burst = 0;
  std::size_t max_keys = 0;
  FieldTemplate key{""};
  bool delay = false;
  std::size_t max_delayed_bytes = 0;
  std::atomic<uint64_t>* dropped = nullptr;
  std::atomic<uint64_t>* delayed = nullptr;
  std::atomic<int64_t>* held_events = nullptr;
  std::atomic<int64_t>* held_bytes = nullptr;
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;

  static Result<std::shared_ptr<const ThrottleSetup>> build(const ThrottleOptions& o,
                                                            const PluginContext& ctx) {
    auto s = std::make_shared<ThrottleSetup>();
    s->rate = o.rate;
    s->burst = o.burst > 0 ? static_cast<double>(o.burst) : std::max(1.0, o.rate);
    s->max_keys = static_cast<std::size_t>(o.max_keys);
    s->key = FieldTemplate(o.key, append_raw);
    s->delay = o.mode == ThrottleMode::kDelay;
    s->max_delayed_bytes = static_cast<std::size_t>(o.max_delayed_bytes.bytes);
    const auto metrics = ComponentMetrics(ctx);
    if (!s->delay) {
      s->dropped = &processors::dropped_counter(metrics, "throttle");
      return std::shared_ptr<const ThrottleSetup>(std::move(s));
    }
    s->delayed = &metrics.counter(
        "logship_throttle_delayed_total",
        "Events a throttle in delay mode held back because their key had no token");
    s->held_events = &metrics.gauge(
        "logship_throttle_held_events",
        "Events a throttle in delay mode holds right now, all streams together");
    s->held_bytes = &metrics.gauge(
        "logship_throttle_held_bytes",
        "Bytes of the events a throttle in delay mode holds right now (memory budget part "
        "\"delayed\")");
    return std::shared_ptr<const ThrottleSetup>(std::move(s));
  }

  // When `key` has (or had) a token again, from its bucket's last state: a fixed time, not
  // "now", so a caller comparing it with its own earlier clock reading sees it due. Caller
  // holds `mu`.
  TimePoint refill_time(std::string_view key) const {
    auto it = buckets.find(key);
    if (it == buckets.end()) return TimePoint{};   // forgotten: full again
    const Bucket& b = it->second;
    if (b.tokens >= 1) return b.last;
    return b.last + std::chrono::ceil<SteadyClock::duration>(
                        std::chrono::duration<double>((1 - b.tokens) / rate));
  }

  // Takes a token of `key` at `now`; false when its bucket is empty. Caller holds `mu`.
  bool take(std::string_view key, TimePoint now) const {
    auto it = buckets.find(key);
    if (it == buckets.end()) {
      if (buckets.size() >= max_keys) forget_idle(now);
      it = buckets.emplace(std::string(key), Bucket{burst, now}).first;
    }
    Bucket& b = it->second;
    // Streams share buckets and read the clock on their own: a `now` older than the bucket's
    // last look adds nothing (and takes nothing away).
    const double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.last).count());
    b.tokens = std::min(burst, b.tokens + elapsed * rate);
    b.last = std::max(b.last, now);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  // Buckets that refilled completely behave like new ones: forgetting them changes nothing.
  void forget_idle(TimePoint now) const {
    for (auto it = buckets.begin(); it != buckets.end();) {
      const double elapsed = std::chrono::duration<double>(now - it->second.last).count();
      if (it->second.tokens + elapsed * rate >= burst) {
        it = buckets.erase(it);
      } else {
        ++it;
      }
    }
    if (buckets.size() >= max_keys) buckets.clear();   // every key is busy: start over
  }
};

class ThrottleProcessor final : public Processor {
 public:
  explicit ThrottleProcessor(std::shared_ptr<const ThrottleSetup> setup)
      : s_(std::move(setup)) {}
  ~ThrottleProcessor() override {
    if (!s_->delay) return;
    s_->held_events->fetch_sub(static_cast<int64_t>(counted_events_), std::memory_order_relaxed);
    s_->held_bytes->fetch_sub(static_cast<int64_t>(counted_bytes_), std::memory_order_relaxed);
  }

  void process(Batch& batch) override {
    auto& events = batch.events();
    if (events.empty() && held_.empty()) return;
    const SourceInfo& src = batch.source();
    const bool per_event = s_->key.varies_per_event(src) || s_->key.has_time();
    if (!per_event && !events.empty()) {
      key_.clear();
      s_->key.render(events.front(), src, &key_);
    }
    const TimePoint now = SteadyClock::now();
    std::lock_guard lock(s_->mu);
    if (!s_->delay) {
      drop_over_limit(batch, per_event, now);
      return;
    }
    delay_over_limit(batch, per_event, now);
  }

  void flush(Batch& out, TimePoint now, bool force) override {
    if (held_.empty()) return;
    std::lock_guard lock(s_->mu);
    release_due(out, now, force);
    account();
  }

  std::optional<TimePoint> next_flush() const override {
    if (held_.empty()) return std::nullopt;
    std::optional<TimePoint> next;
    std::lock_guard lock(s_->mu);
    held_.for_each_key([&](std::string_view key) {
      const TimePoint t = s_->refill_time(key);
      if (!next || t < *next) next = t;
    });
    return next;
  }

  bool over_hold_limit() const override {
    return s_->delay && held_.bytes() > s_->max_delayed_bytes;
  }

 private:
  void drop_over_limit(Batch& batch, bool per_event, TimePoint now) {
    auto& events = batch.events();
    const SourceInfo& src = batch.source();
    auto gone = std::remove_if(events.begin(), events.end(), [&](const Event& e) {
      if (per_event) {
        key_.clear();
        s_->key.render(e, src, &key_);
      }
      return !s_->take(key_, now);
    });
    const auto dropped = static_cast<uint64_t>(events.end() - gone);
    if (dropped == 0) return;
    events.erase(gone, events.end());
    s_->dropped->fetch_add(dropped, std::memory_order_relaxed);
  }

  // Held events whose keys have tokens go first (appended, then rotated to the front: they are
  // older than every event of this batch); then each event passes only when its key holds
  // nothing and has a token, else it joins its key's queue.
  void delay_over_limit(Batch& batch, bool per_event, TimePoint now) {
    auto& events = batch.events();
    const std::size_t n = events.size();
    const std::size_t released = held_.empty() ? 0 : release_due(batch, now, false);
    const SourceInfo& src = batch.source();
    held_.begin_batch();
    uint64_t delayed = 0;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (per_event) {
        key_.clear();
        s_->key.render(events[i], src, &key_);
      }
      if ((held_.empty() || !held_.holds(key_)) && s_->take(key_, now)) {
        if (kept != i) events[kept] = std::move(events[i]);
        ++kept;
        continue;
      }
      held_.hold(key_, events[i], batch);
      ++delayed;
    }
    held_.end_batch();
    if (kept != n) {
      events.erase(events.begin() + static_cast<std::ptrdiff_t>(kept),
                   events.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (released != 0) {
      std::rotate(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(kept),
                  events.end());
    }
    if (delayed != 0) s_->delayed->fetch_add(delayed, std::memory_order_relaxed);
    account();
  }

  // Caller holds s_->mu.
  std::size_t release_due(Batch& out, TimePoint now, bool force) {
    return held_.release(out, [&](std::string_view key) { return s_->take(key, now); }, force);
  }

  // The gauges and the memory budget follow the hold, once per batch.
  void account() {
    const uint64_t ev = held_.events();
    const std::size_t by = held_.bytes();
    s_->held_events->fetch_add(static_cast<int64_t>(ev) - static_cast<int64_t>(counted_events_),
                               std::memory_order_relaxed);
    s_->held_bytes->fetch_add(static_cast<int64_t>(by) - static_cast<int64_t>(counted_bytes_),
                              std::memory_order_relaxed);
    counted_events_ = ev;
    counted_bytes_ = by;
    charge_.set(by);
  }

  std::shared_ptr<const ThrottleSetup> s_;
  std::string key_;
  throttle::DelayQueue held_;
  uint64_t counted_events_ = 0;
  std::size_t counted_bytes_ = 0;
  MemoryCharge charge_{MemoryPart::kDelayed};
};

}  // namespace

const PluginInfo& throttle_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "throttle",
      "Token bucket per key (e.g. per container): events over rate/burst are dropped and "
      "counted, or with mode: delay held back until the key has tokens.",
      &schema_of<ThrottleOptions>, nullptr,
      &parsers::bind_shared<ThrottleOptions, ThrottleSetup, ThrottleProcessor>};
  return info;
}

}  // namespace logship::plugins
