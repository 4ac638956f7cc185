#pragma once
// The metrics of one configured component. Every series it makes carries the component's label
// (`processor="name"`, `output="name"`, escaped once here), so a plugin names its metric and
// help text and never builds a label string by hand. Series are the process-wide ones of
// Metrics::global(): a reloaded component keeps counting into the same series.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/plugin_context.h"
#include "daemon/runtime/metrics.h"

namespace logship {

class ComponentMetrics {
 public:
  // `kind`: input, processor or output; `name`: the component's name in the config.
  ComponentMetrics(std::string_view kind, std::string_view name);
  // The component a plugin's binder was given.
  explicit ComponentMetrics(const PluginContext& ctx) : ComponentMetrics(kind_name(ctx.kind), ctx.name) {}

  const std::string& name() const { return name_; }
  // `processor="name"`: the labels every series of this component starts with.
  const std::string& labels() const { return labels_; }
  // Those labels and one more, e.g. labels_with("reason", "throttle").
  std::string labels_with(std::string_view key, std::string_view value) const;

  std::atomic<uint64_t>& counter(std::string_view metric, std::string_view help) const;
  std::atomic<uint64_t>& counter(std::string_view metric, std::string_view help,
                                 std::string_view key, std::string_view value) const;
  std::atomic<int64_t>& gauge(std::string_view metric, std::string_view help) const;
  Histogram& histogram(std::string_view metric, std::string_view help,
                       const std::vector<double>& upper_bounds) const;

 private:
  std::string name_;
  std::string labels_;
};

}  // namespace logship
