#include "daemon/runtime/container_series.h"

#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

std::atomic<std::size_t> g_max_series{500};
// Named series of every input: the cap holds for the process.
std::atomic<std::size_t> g_named{0};

}  // namespace

void ContainerSeries::set_max_series(std::size_t n) {
  g_max_series.store(n, std::memory_order_relaxed);
}

std::size_t ContainerSeries::max_series() { return g_max_series.load(std::memory_order_relaxed); }

std::string ContainerSeries::sanitize(std::string_view value) {
  std::string out;
  const bool cut = value.size() > kMaxValueBytes;
  if (cut) value = value.substr(0, kMaxValueBytes - 1);
  out.reserve(value.size() + 1);
  for (unsigned char c : value) out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '_');
  if (cut) out.push_back('~');
  return out;
}

ContainerSeries::Handle& ContainerSeries::Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    owner_ = std::exchange(o.owner_, nullptr);
    key_ = std::exchange(o.key_, nullptr);
    events_ = std::exchange(o.events_, nullptr);
    bytes_ = std::exchange(o.bytes_, nullptr);
    overflowed_ = std::exchange(o.overflowed_, false);
  }
  return *this;
}

void ContainerSeries::Handle::reset() {
  if (owner_ != nullptr) owner_->release(*key_, overflowed_);
  owner_ = nullptr;
  events_ = bytes_ = nullptr;
  key_ = nullptr;
  overflowed_ = false;
}

ContainerSeries::ContainerSeries(Metrics& metrics, std::string input_name)
    : metrics_(metrics),
      input_(std::move(input_name)),
      overflow_key_(label("container", kOverflowName)) {
  const std::string own = label("input", input_);
  named_gauge_ = &metrics_.gauge(kSeriesMetric, own,
                                 "Per-container series of this input shown by container name "
                                 "(service.max_container_series caps them for the process)");
  overflow_counter_ = &metrics_.counter(
      kOverflowMetric, own,
      "Containers counted in the overflow series (container _other) because "
      "service.max_container_series was reached");
}

ContainerSeries::~ContainerSeries() {
  std::lock_guard lock(mu_);
  for (auto& [key, e] : entries_) {
    if (!e.overflowed) g_named.fetch_sub(1, std::memory_order_relaxed);
  }
}

std::string ContainerSeries::series_labels(std::string_view key) const {
  std::string s = label("input", input_);
  s += ',';
  s += key;
  return s;
}

ContainerSeries::Handle ContainerSeries::acquire(
    const std::vector<std::pair<std::string_view, std::string_view>>& labels) {
  std::string key;
  for (const auto& [k, v] : labels) {
    if (!key.empty()) key += ',';
    key += label(k, sanitize(v));
  }
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (inserted) {
    // The overflow name is reserved: a container calling itself "_other" is counted there.
    bool room = false;
    if (key != overflow_key_) {
      std::size_t named = g_named.load(std::memory_order_relaxed);
      while (named < max_series()) {
        if (g_named.compare_exchange_weak(named, named + 1, std::memory_order_relaxed)) {
          room = true;
          break;
        }
      }
    }
    e.overflowed = !room;
    if (e.overflowed) {
      overflow_counter_->fetch_add(1, std::memory_order_relaxed);
    } else {
      named_gauge_->fetch_add(1, std::memory_order_relaxed);
    }
  }
  ++e.refs;
  Handle h;
  h.owner_ = this;
  h.key_ = &it->first;
  h.overflowed_ = e.overflowed;
  const std::string series = series_labels(e.overflowed ? overflow_key_ : key);
  if (e.overflowed) ++overflow_refs_;
  h.events_ = &metrics_.counter(kEventsMetric, series,
                                "Events read from each container's log files");
  h.bytes_ = &metrics_.counter(kBytesMetric, series,
                               "Message bytes read from each container's log files");
  return h;
}

void ContainerSeries::release(const std::string& key, bool overflowed) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (--it->second.refs == 0) {
    // `key` may be the entry's own (a Handle's): used before the entry goes.
    const std::string series = series_labels(key);
    entries_.erase(it);
    if (!overflowed) {
      g_named.fetch_sub(1, std::memory_order_relaxed);
      named_gauge_->fetch_sub(1, std::memory_order_relaxed);
      metrics_.remove(kEventsMetric, series);
      metrics_.remove(kBytesMetric, series);
    }
  }
  if (overflowed && --overflow_refs_ == 0) {
    const std::string series = series_labels(overflow_key_);
    metrics_.remove(kEventsMetric, series);
    metrics_.remove(kBytesMetric, series);
  }
}

}  // namespace logship
