// The throttle processor: a token bucket per key (e.g. per container): `rate` events a second,
// bursts up to `burst`. Events over the limit are dropped and counted. The buckets are shared by
// every stream the processor runs on, so a key may span streams (one image, many containers).
//
// Holding over-limit events back instead of dropping them (a delay mode) is left out: the
// processor runs on the input's thread, and waiting there would stall every key of the stream.
#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "daemon/core/clock.h"
#include "daemon/core/field_template.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"

namespace logship::plugins {
namespace {

struct ThrottleOptions {
  double rate = 0;
  int64_t burst = 0;
  std::string key = "{container_name}";
  int64_t max_keys = 10000;

  static const config::OptionSchema<ThrottleOptions>& schema() {
    using S = config::OptionSchema<ThrottleOptions>;
    static const auto s =
        S{}.required("rate", &ThrottleOptions::rate,
                     "Events per second each key may pass on average.",
                     config::Check<double>{[](const double& v) -> std::string {
                                             return v > 0 ? "" : "must be above 0";
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
                 config::at_least<int64_t>(1, "1"));
    return s;
  }
};

void append_raw(std::string* out, std::string_view v) { out->append(v); }

struct Bucket {
  double tokens = 0;
  TimePoint last{};
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct ThrottleSetup {
  double rate = 0;
  double burst = 0;
  std::size_t max_keys = 0;
  FieldTemplate key{""};
  std::atomic<uint64_t>* dropped = nullptr;
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;

  static std::shared_ptr<const ThrottleSetup> build(const ThrottleOptions& o,
                                                    const std::string& context, std::string*) {
    auto s = std::make_shared<ThrottleSetup>();
    s->rate = o.rate;
    s->burst = o.burst > 0 ? static_cast<double>(o.burst) : std::max(1.0, o.rate);
    s->max_keys = static_cast<std::size_t>(o.max_keys);
    s->key = FieldTemplate(o.key, append_raw);
    s->dropped = &Metrics::global().counter(
        "logship_processor_dropped_total",
        "processor=\"" + parsers::processor_name(context) + "\",reason=\"throttle\"",
        "Events dropped by a processor, per reason");
    return s;
  }

  // Takes a token of `key` at `now`; false when its bucket is empty. Caller holds `mu`.
  bool take(std::string_view key, TimePoint now) const {
    auto it = buckets.find(key);
    if (it == buckets.end()) {
      if (buckets.size() >= max_keys) forget_idle(now);
      it = buckets.emplace(std::string(key), Bucket{burst, now}).first;
    }
    Bucket& b = it->second;
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst, b.tokens + elapsed * rate);
    b.last = now;
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

  void process(Batch& batch) override {
    auto& events = batch.events();
    if (events.empty()) return;
    const SourceInfo& src = batch.source();
    const bool per_event = s_->key.varies_per_event(src) || s_->key.has_time();
    if (!per_event) {
      key_.clear();
      s_->key.render(events.front(), src, &key_);
    }
    const TimePoint now = SteadyClock::now();
    std::lock_guard lock(s_->mu);
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

 private:
  std::shared_ptr<const ThrottleSetup> s_;
  std::string key_;
};

}  // namespace

const PluginInfo& throttle_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "throttle",
      "Token bucket per key (e.g. per container): events over rate/burst are dropped and counted.",
      &schema_of<ThrottleOptions>, nullptr,
      &parsers::bind_shared<ThrottleOptions, ThrottleSetup, ThrottleProcessor>};
  return info;
}

}  // namespace logship::plugins
