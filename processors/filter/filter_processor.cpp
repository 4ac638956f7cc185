// The filter processor: keeps (keep_if) or drops (drop_if) events by a condition. Dropped events
// are settled with their batch (the checkpoint moves past them) and counted per processor.
#include <algorithm>

#include "config/condition_option.h"
#include "daemon/registry/plugin.h"
#include "parsers/common/bind.h"
#include "parsers/common/common.h"
#include "processors/common/drop_events.h"

namespace logship::plugins {
namespace {

struct FilterOptions {
  config::ConditionOption keep_if;
  config::ConditionOption drop_if;

  static const config::OptionSchema<FilterOptions>& schema() {
    using S = config::OptionSchema<FilterOptions>;
    static const auto s =
        S{}.add("keep_if", &FilterOptions::keep_if,
                "Keep only the events matching this condition; drop the rest.")
            .add("drop_if", &FilterOptions::drop_if,
                 "Drop the events matching this condition. Give keep_if or drop_if, not both.");
    return s;
  }
};

struct FilterSetup {
  std::shared_ptr<const condition::Condition> condition;
  bool keep = false;   // keep_if: drop what does not match
  std::atomic<uint64_t>* dropped = nullptr;

  static Result<std::shared_ptr<const FilterSetup>> build(const FilterOptions& o,
                                                          const PluginContext& ctx) {
    if (static_cast<bool>(o.keep_if) == static_cast<bool>(o.drop_if)) {
      return Status::invalid("give exactly one of keep_if, drop_if");
    }
    auto s = std::make_shared<FilterSetup>();
    s->keep = static_cast<bool>(o.keep_if);
    s->condition = s->keep ? o.keep_if.compiled : o.drop_if.compiled;
    s->dropped = &processors::dropped_counter(ComponentMetrics(ctx), s->keep ? "keep_if" : "drop_if");
    return std::shared_ptr<const FilterSetup>(std::move(s));
  }
};

class FilterProcessor final : public Processor {
 public:
  explicit FilterProcessor(std::shared_ptr<const FilterSetup> setup) : setup_(std::move(setup)) {}

  void process(Batch& batch) override {
    const SourceInfo& src = batch.source();
    const condition::Condition& c = *setup_->condition;
    const bool keep = setup_->keep;
    processors::drop_events(batch, *setup_->dropped, [&](const Event& e) {
      return c.matches(e, src, &scratch_) != keep;
    });
  }

 private:
  std::shared_ptr<const FilterSetup> setup_;
  std::string scratch_;
};

}  // namespace

const PluginInfo& filter_processor() {
  static const PluginInfo info{
      PluginKind::kProcessor, "filter",
      "Keeps (keep_if) or drops (drop_if) events by a condition; drops are counted.",
      &schema_of<FilterOptions>, nullptr,
      &parsers::bind_shared<FilterOptions, FilterSetup, FilterProcessor>};
  return info;
}

}  // namespace logship::plugins
