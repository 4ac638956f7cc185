#pragma once
// Process-wide metrics: counters and gauges addressed by name and label set; rendered as
// Prometheus text. References returned stay valid for the life of the process.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace logship {

class Metrics {
 public:
  static Metrics& global();

  // labels: `component="x",output="y"` (already formatted), may be empty.
  std::atomic<uint64_t>& counter(std::string_view name, std::string_view labels,
                                 std::string_view help = {});
  std::atomic<int64_t>& gauge(std::string_view name, std::string_view labels,
                              std::string_view help = {});
  std::string render_prometheus() const;
  // For tests: the value of a counter or gauge, 0 if it does not exist.
  int64_t value(std::string_view name, std::string_view labels) const;

 private:
  struct Entry {
    bool is_counter = true;
    std::atomic<uint64_t> counter{0};
    std::atomic<int64_t> gauge{0};
  };
  struct Family {
    std::string help;
    bool is_counter = true;
    std::map<std::string, std::unique_ptr<Entry>, std::less<>> series;
  };
  Entry& entry(std::string_view name, std::string_view labels, std::string_view help,
               bool is_counter);
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
};

}  // namespace logship
