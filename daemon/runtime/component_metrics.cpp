#include "daemon/runtime/component_metrics.h"

namespace logship {

ComponentMetrics::ComponentMetrics(std::string_view kind, std::string_view name)
    : name_(name), labels_(label(kind, name)) {}

ComponentMetrics ComponentMetrics::of_processor(const std::string& context) {
  // "processors.NAME (type)" -> NAME. A name may hold dots and parentheses itself: only the
  // section prefix and the last " (type)" are not part of it.
  std::string_view c = context;
  if (c.starts_with("processors.")) c.remove_prefix(11);
  if (auto sp = c.rfind(" ("); sp != std::string_view::npos && c.ends_with(')')) {
    c = c.substr(0, sp);
  }
  return ComponentMetrics("processor", c);
}

std::string ComponentMetrics::labels_with(std::string_view key, std::string_view value) const {
  std::string l = labels_;
  l += ',';
  l += label(key, value);
  return l;
}

std::atomic<uint64_t>& ComponentMetrics::counter(std::string_view metric,
                                                 std::string_view help) const {
  return Metrics::global().counter(metric, labels_, help);
}

std::atomic<uint64_t>& ComponentMetrics::counter(std::string_view metric, std::string_view help,
                                                 std::string_view key,
                                                 std::string_view value) const {
  return Metrics::global().counter(metric, labels_with(key, value), help);
}

std::atomic<int64_t>& ComponentMetrics::gauge(std::string_view metric,
                                              std::string_view help) const {
  return Metrics::global().gauge(metric, labels_, help);
}

Histogram& ComponentMetrics::histogram(std::string_view metric, std::string_view help,
                                       const std::vector<double>& upper_bounds) const {
  return Metrics::global().histogram(metric, labels_, help, upper_bounds);
}

}  // namespace logship
