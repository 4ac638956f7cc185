#pragma once
// What the processors that drop events (filter, sample, throttle, dedup) share: their series of
// logship_processor_dropped_total, and removing the dropped events of a batch in place.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/runtime/component_metrics.h"

namespace logship::processors {

// logship_processor_dropped_total{processor, reason} of a processor.
inline std::atomic<uint64_t>& dropped_counter(const ComponentMetrics& processor,
                                              std::string_view reason) {
  return processor.counter("logship_processor_dropped_total",
                           "Events dropped by a processor, per reason", "reason", reason);
}

// Removes the events for which `drop(const Event&)` is true, keeping the others in order, and
// adds how many went to `dropped`.
template <class Drop>
void drop_events(Batch& batch, std::atomic<uint64_t>& dropped, Drop&& drop) {
  auto& events = batch.events();
  auto gone = std::remove_if(events.begin(), events.end(), std::forward<Drop>(drop));
  const auto n = static_cast<uint64_t>(events.end() - gone);
  if (n == 0) return;
  events.erase(gone, events.end());
  dropped.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace logship::processors
