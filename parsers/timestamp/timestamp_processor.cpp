// `timestamp` processor: sets the event time from a field (or the message) in a given format.
// The format is compiled once per config; parsing is a straight scan without allocation.
#include <optional>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/component_metrics.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "parsers/common/parser_options.h"
#include "parsers/timestamp/time_format.h"

namespace logship::plugins {
namespace {

struct TimestampOptions {
  std::string field = "time";
  std::string format = "rfc3339";
  std::string timezone = "UTC";
  bool remove_field = false;
  std::string when_label;

  static const config::OptionSchema<TimestampOptions>& schema() {
    using S = config::OptionSchema<TimestampOptions>;
    static const auto s = [] {
      S s;
      s.add("field", &TimestampOptions::field,
            "Field holding the time (\"message\" = the message). A string, or a number for "
            "epoch formats.")
          .add("format", &TimestampOptions::format,
               "rfc3339 (alias iso8601; offsets and 0-9 fractional digits), epoch (seconds, "
               "fraction allowed; alias epoch_s), epoch_ms, epoch_us, epoch_ns, or a strptime "
               "pattern: %Y %y %m %d %e %j %H %I %M %S %f (fraction digits) %p %z (Z, +hh:mm, "
               "+hhmm) %Z (UTC/GMT/Z) %b %B %a %A %T %F %s %%. Without a year (syslog) the "
               "current one is used.")
          .add("timezone", &TimestampOptions::timezone,
               "Offset for times without one: UTC or +hh:mm / -hh:mm.")
          .add("remove_field", &TimestampOptions::remove_field,
               "Drop the field once it set the time.");
      parsers::add_when_label_option(s, &TimestampOptions::when_label);
      return s;
    }();
    return s;
  }
};

struct TimestampSetup {
  TimestampOptions o;
  parsers::TimeFormat format;
  parsers::LabelCondition when;
  std::atomic<uint64_t>* parsed;
  std::atomic<uint64_t>* failed;
  std::atomic<uint64_t>* missing;
  std::optional<ComponentLog> logger;
  // A stream of unparsable times must not flood the log.
  mutable log::RateLimit unparsable_log;

  static Result<std::shared_ptr<const TimestampSetup>> build(const TimestampOptions& o,
                                                             const PluginContext& ctx) {
    auto s = std::make_shared<TimestampSetup>();
    s->o = o;
    s->logger.emplace(ctx);
    int32_t off = 0;
    if (!parsers::parse_fixed_offset(o.timezone, &off)) {
      return Status::invalid(
          "'timezone': expected UTC or an offset like +02:00, got \"" + o.timezone + "\"");
    }
    LOGSHIP_TRY(s->format.compile(o.format, off).with_context("'format'"));
    if (Status st = s->when.parse(o.when_label); !st.is_ok()) {
      return Status::invalid("'when_label': " + st.message());
    }
    const ComponentMetrics m(ctx);
    s->parsed = &m.counter("logship_timestamp_parsed_total", "Event times set");
    s->failed = &m.counter("logship_timestamp_failed_total",
                           "Times that did not parse; the event kept its time");
    s->missing = &m.counter("logship_timestamp_missing_total", "Events without the time field");
    return std::shared_ptr<const TimestampSetup>(std::move(s));
  }
};

class TimestampProcessor final : public Processor {
 public:
  explicit TimestampProcessor(std::shared_ptr<const TimestampSetup> setup)
      : setup_(std::move(setup)), o_(setup_->o) {}

  void process(Batch& batch) override {
    if (!gate_.get(batch, [&](const SourceInfo& s) { return setup_->when.matches(s); })) return;
    const int64_t now = wall_now_ns();
    uint64_t ok = 0, failed = 0, missing = 0;
    for (Event& e : batch.events()) {
      int64_t ns;
      bool have = false, parsed = false;
      if (parsers::is_message(o_.field)) {
        have = true;
        parsed = setup_->format.parse(e.message, now, &ns);
      } else if (const Field* f = e.find(o_.field)) {
        have = true;
        switch (f->value.type) {
          case ValueType::kString: parsed = setup_->format.parse(f->value.s, now, &ns); break;
          case ValueType::kInt: parsed = setup_->format.from_int(f->value.i, &ns); break;
          case ValueType::kDouble: parsed = setup_->format.from_double(f->value.d, &ns); break;
          default: break;
        }
      }
      if (!have) {
        ++missing;
        continue;
      }
      if (!parsed) {
        ++failed;
        std::string_view shown;
        if (parsers::source_text(e, o_.field, &shown) && shown.size() > 64) shown = shown.substr(0, 64);
        setup_->logger->warn(setup_->unparsable_log, "cannot parse time; event keeps its time",
                             log::kv("format", o_.format) + log::kv("value", shown));
        continue;
      }
      e.time_ns = ns;
      if (o_.remove_field && !parsers::is_message(o_.field)) parsers::clear_source(e, o_.field);
      ++ok;
    }
    setup_->parsed->fetch_add(ok, std::memory_order_relaxed);
    if (failed) setup_->failed->fetch_add(failed, std::memory_order_relaxed);
    if (missing) setup_->missing->fetch_add(missing, std::memory_order_relaxed);
  }

 private:
  std::shared_ptr<const TimestampSetup> setup_;
  const TimestampOptions& o_;
  parsers::PerSource<bool> gate_;
};

}  // namespace

const PluginInfo& timestamp_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "timestamp",
      "Sets the event time from a field: RFC 3339, strptime-style patterns or epoch units.",
      &schema_of<TimestampOptions>, nullptr,
      &parsers::bind_shared<TimestampOptions, TimestampSetup, TimestampProcessor>};
  return info;
}

}  // namespace logship::plugins
