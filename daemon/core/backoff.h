#pragma once
// The one retry policy of logship: the core's retry of a failed delivery and every output's
// resends (Elasticsearch item rounds, HTTP/OTLP busy answers) wait by it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace logship {

// Capped exponential backoff with jitter: attempt n (from 0) waits a random delay drawn
// uniformly from [ceiling/10, ceiling], ceiling = min(max, initial * 2^n), at least 1 ms.
// The jitter spreads the retries of many outputs and hosts so they do not hammer a recovering
// server together; the floor of a tenth keeps a failing server from being hit in a tight loop.
// Not thread-safe: one per sender thread, or guarded by the caller.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next(uint32_t attempt) {
    const int64_t cap = max_.count();
    const int64_t base = initial_.count();
    const int shift = static_cast<int>(std::min<uint32_t>(attempt, 30));
    const int64_t ceiling = std::max<int64_t>(1, std::min<int64_t>(cap, base << shift));
    std::uniform_int_distribution<int64_t> dist(std::max<int64_t>(1, ceiling / 10), ceiling);
    return std::chrono::milliseconds(dist(rng_));
  }

 private:
  std::chrono::milliseconds initial_, max_;
  std::mt19937_64 rng_;
};

}  // namespace logship
