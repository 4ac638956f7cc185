// The sample processor: keeps 1 event in `rate` per key (the 1st, the N+1th, ...), always keeping
// the events that match `always_keep` (e.g. level >= error). Counts are shared by every stream
// of the processor, so a key may span streams. Dropped events are counted.
#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "config/condition_option.h"
#include "daemon/core/field_template.h"
#include "daemon/registry/plugin.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "processors/common/drop_events.h"

namespace logship::plugins {
namespace {

struct SampleOptions {
  int64_t rate = 0;
  std::string key = "{container_name}";
  config::ConditionOption always_keep;
  int64_t max_keys = 10000;

  static const config::OptionSchema<SampleOptions>& schema() {
    using S = config::OptionSchema<SampleOptions>;
    static const auto s =
        S{}.required("rate", &SampleOptions::rate, "Keep 1 event in this many, per key.",
                     config::at_least<int64_t>(1, "1"))
            .add("key", &SampleOptions::key,
                 "Template naming an event's key: {container_name}, {image}, any field; \"\" for "
                 "one count.")
            .add("always_keep", &SampleOptions::always_keep,
                 "Events matching this condition are always kept (and not counted in the 1 in N).")
            .add("max_keys", &SampleOptions::max_keys,
                 "Keys counted at most; past it the counts start over.",
                 config::at_least<int64_t>(1, "1"));
    return s;
  }
};

void append_raw(std::string* out, std::string_view v) { out->append(v); }

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct SampleSetup {
  uint64_t rate = 1;
  std::size_t max_keys = 0;
  FieldTemplate key{""};
  std::shared_ptr<const condition::Condition> always_keep;
  std::atomic<uint64_t>* dropped = nullptr;
  mutable std::mutex mu;
  mutable std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> seen;

  static Result<std::shared_ptr<const SampleSetup>> build(const SampleOptions& o,
                                                          const PluginContext& ctx) {
    auto s = std::make_shared<SampleSetup>();
    s->rate = static_cast<uint64_t>(o.rate);
    s->max_keys = static_cast<std::size_t>(o.max_keys);
    s->key = FieldTemplate(o.key, append_raw);
    s->always_keep = o.always_keep.compiled;
    s->dropped = &processors::dropped_counter(ComponentMetrics(ctx), "sample");
    return std::shared_ptr<const SampleSetup>(std::move(s));
  }

  // Caller holds `mu`. True for the 1st, N+1th, ... event of the key.
  bool keep(std::string_view key) const {
    auto it = seen.find(key);
    if (it == seen.end()) {
      if (seen.size() >= max_keys) seen.clear();
      it = seen.emplace(std::string(key), 0).first;
    }
    return it->second++ % rate == 0;
  }
};

class SampleProcessor final : public Processor {
 public:
  explicit SampleProcessor(std::shared_ptr<const SampleSetup> setup) : s_(std::move(setup)) {}

  void process(Batch& batch) override {
    auto& events = batch.events();
    if (events.empty()) return;
    const SourceInfo& src = batch.source();
    const bool per_event = s_->key.varies_per_event(src) || s_->key.has_time();
    if (!per_event) {
      key_.clear();
      s_->key.render(events.front(), src, &key_);
    }
    std::lock_guard lock(s_->mu);
    processors::drop_events(batch, *s_->dropped, [&](const Event& e) {
      if (s_->always_keep && s_->always_keep->matches(e, src, &scratch_)) return false;
      if (per_event) {
        key_.clear();
        s_->key.render(e, src, &key_);
      }
      return !s_->keep(key_);
    });
  }

 private:
  std::shared_ptr<const SampleSetup> s_;
  std::string key_, scratch_;
};

}  // namespace

const PluginInfo& sample_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "sample",
      "Keeps 1 event in N per key, always keeping those matching a condition; drops are counted.",
      &schema_of<SampleOptions>, nullptr,
      &parsers::bind_shared<SampleOptions, SampleSetup, SampleProcessor>};
  return info;
}

}  // namespace logship::plugins
