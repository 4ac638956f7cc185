#pragma once
// What the processors that drop events (filter, sample, throttle, dedup) share: their series of
// logship_processor_dropped_total, and removing the dropped events of a batch in place.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/runtime/metrics.h"
#include "parsers/common/common.h"

namespace logship::processors {

// logship_processor_dropped_total{processor, reason} of the processor configured at `context`
// ("processors.NAME (type)"); label values escaped.
inline std::atomic<uint64_t>& dropped_counter(const std::string& context, std::string_view reason) {
  return Metrics::global().counter(
      "logship_processor_dropped_total",
      label("processor", parsers::processor_name(context)) + "," + label("reason", reason),
      "Events dropped by a processor, per reason");
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
