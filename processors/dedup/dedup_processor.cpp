// The dedup processor: drops an event identical to one of the last `history` kept events of the
// same stream within `window` (by event time), and notes on the next kept event how many were
// dropped since the previous one (field `repeated`, as syslog's "last message repeated N
// times"). Identity is a 64-bit hash of the message, the stream and every field.
#include <algorithm>
#include <cstring>

#include "config/option_types.h"
#include "daemon/registry/plugin.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "processors/common/drop_events.h"

namespace logship::plugins {
namespace {

struct DedupOptions {
  int64_t history = 5;
  config::Millis window{10000};
  std::string repeated_field = "repeated";

  static const config::OptionSchema<DedupOptions>& schema() {
    using S = config::OptionSchema<DedupOptions>;
    static const auto s =
        S{}.add("history", &DedupOptions::history,
                "How many recent distinct events of the stream an event is compared with.",
                config::in_range(1, 1024))
            .add("window", &DedupOptions::window,
                 "An identical event older than this (by event time) is kept again.")
            .add("repeated_field", &DedupOptions::repeated_field,
                 "Field set on the next kept event to the count dropped since the previous one; "
                 "\"\" for none.");
    return s;
  }
};

struct DedupSetup {
  std::size_t history = 5;
  int64_t window_ns = 0;
  std::string repeated_field;
  std::atomic<uint64_t>* dropped = nullptr;

  static Result<std::shared_ptr<const DedupSetup>> build(const DedupOptions& o,
                                                         const PluginContext& ctx) {
    auto s = std::make_shared<DedupSetup>();
    s->history = static_cast<std::size_t>(o.history);
    s->window_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(o.window).count();
    s->repeated_field = o.repeated_field;
    s->dropped = &processors::dropped_counter(ComponentMetrics(ctx), "dedup");
    return std::shared_ptr<const DedupSetup>(std::move(s));
  }
};

// FNV-1a, 64-bit: fast, no allocation, and the input is not adversarial to a log's own stream.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  }
  void add(std::string_view s) {
    const uint64_t n = s.size();
    add(&n, sizeof n);   // length first: "ab"+"c" differs from "a"+"bc"
    add(s.data(), s.size());
  }
};

uint64_t identity(const Event& e) {
  Fnv f;
  f.add(e.message);
  const auto stream = static_cast<uint8_t>(e.stream);
  f.add(&stream, 1);
  for (const Field& field : e.fields) {
    f.add(field.key);
    const auto t = static_cast<uint8_t>(field.value.type);
    f.add(&t, 1);
    switch (field.value.type) {
      case ValueType::kString:
      case ValueType::kRawJson: f.add(field.value.s); break;
      case ValueType::kInt: f.add(&field.value.i, sizeof field.value.i); break;
      case ValueType::kDouble: f.add(&field.value.d, sizeof field.value.d); break;
      case ValueType::kBool: f.add(&field.value.b, sizeof field.value.b); break;
      case ValueType::kNull: break;
    }
  }
  return f.h;
}

class DedupProcessor final : public Processor {
 public:
  explicit DedupProcessor(std::shared_ptr<const DedupSetup> setup) : s_(std::move(setup)) {
    recent_.resize(s_->history);
  }

  void process(Batch& batch) override {
    auto& events = batch.events();
    uint64_t dropped = 0;
    std::string_view repeated_key;   // copied into the batch once, when first needed
    std::size_t kept = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
      Event& e = events[i];
      const uint64_t id = identity(e);
      if (seen_recently(id, e.time_ns)) {
        ++dropped;
        ++pending_repeats_;
        continue;
      }
      recent_[next_] = Seen{id, e.time_ns, true};
      next_ = (next_ + 1) % recent_.size();
      if (pending_repeats_ != 0 && !s_->repeated_field.empty()) {
        if (repeated_key.empty()) repeated_key = batch.copy(s_->repeated_field);
        e.set(repeated_key, Value::integer(static_cast<int64_t>(pending_repeats_)));
      }
      pending_repeats_ = 0;
      if (kept != i) events[kept] = std::move(e);
      ++kept;
    }
    if (dropped == 0) return;
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(kept), events.end());
    s_->dropped->fetch_add(dropped, std::memory_order_relaxed);
  }

 private:
  struct Seen {
    uint64_t id = 0;
    int64_t time_ns = 0;
    bool used = false;
  };

  bool seen_recently(uint64_t id, int64_t t) const {
    for (const Seen& r : recent_) {
      if (r.used && r.id == id && t >= r.time_ns && t - r.time_ns <= s_->window_ns) return true;
    }
    return false;
  }

  std::shared_ptr<const DedupSetup> s_;
  std::vector<Seen> recent_;
  std::size_t next_ = 0;
  uint64_t pending_repeats_ = 0;
};

}  // namespace

const PluginInfo& dedup_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "dedup",
      "Drops events identical to a recent one of the same stream; the next kept event says how "
      "many repeated.",
      &schema_of<DedupOptions>, nullptr,
      &parsers::bind_shared<DedupOptions, DedupSetup, DedupProcessor>};
  return info;
}

}  // namespace logship::plugins
