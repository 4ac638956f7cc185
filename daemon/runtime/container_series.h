#pragma once
// Per-container series of a container log input (docker, cri):
//   logship_input_container_events_total{input="docker",container="web-1"}
//   logship_input_container_bytes_total{input="docker",container="web-1"}
// labelled by the container's name, not by a file's device:inode. Names come from whoever
// starts the container: each label value is bounded and reduced to printable ASCII before it
// reaches /metrics. The number of named series is capped for the whole process
// (service.max_container_series): past the cap a container's counts go to one overflow series,
// container="_other" (a name Docker and Kubernetes never give: it starts with '_'), and
// logship_input_container_series_overflow_total counts the containers sent there. A series
// leaves /metrics when the last file of its container is released.
//
// Acquiring and releasing happen when a file is opened and released; counting is two relaxed
// atomic adds per event.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logship {

class Metrics;

class ContainerSeries {
 public:
  static constexpr std::string_view kOverflowName = "_other";
  // Longest label value kept (bytes); a longer one is cut and ends in "~".
  static constexpr std::size_t kMaxValueBytes = 128;
  static constexpr std::string_view kEventsMetric = "logship_input_container_events_total";
  static constexpr std::string_view kBytesMetric = "logship_input_container_bytes_total";
  static constexpr std::string_view kSeriesMetric = "logship_input_container_series";
  static constexpr std::string_view kOverflowMetric =
      "logship_input_container_series_overflow_total";

  // The process-wide cap on named series (service.max_container_series); 0 sends every
  // container to the overflow series. Lowering it keeps the series that exist.
  static void set_max_series(std::size_t n);
  static std::size_t max_series();
  // Bounded printable ASCII: bytes outside 0x20..0x7e become '_'.
  static std::string sanitize(std::string_view value);

  // What one file's decoder counts into; releases its share of the series when destroyed.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& o) noexcept { *this = std::move(o); }
    Handle& operator=(Handle&& o) noexcept;
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    void reset();
    void count(std::size_t bytes) {
      if (events_ == nullptr) return;
      events_->fetch_add(1, std::memory_order_relaxed);
      bytes_->fetch_add(bytes, std::memory_order_relaxed);
    }
    bool overflowed() const { return overflowed_; }
    bool active() const { return owner_ != nullptr; }

   private:
    friend class ContainerSeries;
    ContainerSeries* owner_ = nullptr;
    const std::string* key_ = nullptr;   // its entry's key (entries are kept while held)
    std::atomic<uint64_t>* events_ = nullptr;
    std::atomic<uint64_t>* bytes_ = nullptr;
    bool overflowed_ = false;
  };

  ContainerSeries(Metrics& metrics, std::string input_name);
  ~ContainerSeries();   // every Handle must be gone by then
  ContainerSeries(const ContainerSeries&) = delete;
  ContainerSeries& operator=(const ContainerSeries&) = delete;

  // `labels`: the container's identity, e.g. {{"container", "web-1"}} or for CRI
  // {{"namespace", ns}, {"pod", pod}, {"container", name}}; values are sanitized here.
  Handle acquire(const std::vector<std::pair<std::string_view, std::string_view>>& labels);

 private:
  struct Entry {
    std::size_t refs = 0;
    bool overflowed = false;
  };
  void release(const std::string& key, bool overflowed);
  // Series labels: input="x",<key>.
  std::string series_labels(std::string_view key) const;

  Metrics& metrics_;
  const std::string input_;
  const std::string overflow_key_;
  std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;   // sanitized label set -> users
  std::size_t overflow_refs_ = 0;
  std::atomic<int64_t>* named_gauge_;
  std::atomic<uint64_t>* overflow_counter_;
};

}  // namespace logship
