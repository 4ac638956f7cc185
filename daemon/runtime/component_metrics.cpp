#include "daemon/runtime/component_metrics.h"

namespace logship {

ComponentMetrics::ComponentMetrics(std::string_view kind, std::string_view name)
    : name_(name), labels_(label(kind, name)) {}

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
