#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace logship {

// Capped exponential backoff with full jitter: a random delay in [0, min(max, initial * 2^n)].
// Full jitter spreads retries of many outputs/hosts so they do not hammer a recovering server.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next(uint32_t attempt) {
    int64_t cap = max_.count();
    int64_t base = initial_.count();
    int shift = static_cast<int>(std::min<uint32_t>(attempt, 30));
    int64_t ceiling = std::min<int64_t>(cap, base << shift);
    std::uniform_int_distribution<int64_t> dist(std::max<int64_t>(1, ceiling / 10), std::max<int64_t>(1, ceiling));
    return std::chrono::milliseconds(dist(rng_));
  }

 private:
  std::chrono::milliseconds initial_, max_;
  std::mt19937_64 rng_;
};

}  // namespace logship
