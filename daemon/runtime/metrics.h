#pragma once
// Process-wide metrics: counters, gauges and histograms addressed by name and label set;
// rendered as Prometheus text. References returned stay valid for the life of the process, so
// a reloaded pipeline keeps counting into the same series.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace logship {

// Fixed buckets chosen at creation; observe() is lock-free (one relaxed add per bucket hit).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is +Inf).
  uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};   // sum kept in 1e-9 units: atomics on integers only
};

// One label, value quoted and escaped: label("output", name) -> output="name".
std::string label(std::string_view key, std::string_view value);

class Metrics {
 public:
  static Metrics& global();

  // labels: `component="x",output="y"` (already formatted), may be empty.
  std::atomic<uint64_t>& counter(std::string_view name, std::string_view labels,
                                 std::string_view help = {});
  std::atomic<int64_t>& gauge(std::string_view name, std::string_view labels,
                              std::string_view help = {});
  // Bounds apply when the series is first created.
  Histogram& histogram(std::string_view name, std::string_view labels, std::string_view help,
                       const std::vector<double>& upper_bounds);
  std::string render_prometheus() const;
  // For tests: the value of a counter or gauge (a histogram's count), 0 if it does not exist.
  int64_t value(std::string_view name, std::string_view labels) const;
  // Drops a series whose subject is gone (a released file). Its reference must not be used after.
  void remove(std::string_view name, std::string_view labels);

  // The plugin type of a component, shown as `type="..."` on every series whose first label
  // is key="name" (key: input, processor, output), so that dashboards can sum by type. Callers
  // keep addressing series by the labels they gave.
  void set_component_type(std::string_view key, std::string_view name, std::string_view type);
  // A component a reload removed: its series leave /metrics. References to them stay valid
  // (counting into series no longer shown).
  void forget_component(std::string_view key, std::string_view name);

  // Latency buckets in seconds, 1 ms .. 60 s.
  static const std::vector<double>& latency_buckets();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Entry {
    Type type = Type::kCounter;
    std::atomic<uint64_t> counter{0};
    std::atomic<int64_t> gauge{0};
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string help;
    Type type = Type::kCounter;
    std::map<std::string, std::unique_ptr<Entry>, std::less<>> series;
  };
  Entry& entry(std::string_view name, std::string_view labels, std::string_view help, Type type);
  // `labels` with the component's type added when its first label names a typed component.
  std::string typed(std::string_view labels) const;
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::map<std::string, std::string, std::less<>> component_types_;   // `input="x"` -> type
  std::vector<std::unique_ptr<Entry>> retired_;   // forgotten series: hidden, never freed
};

}  // namespace logship
