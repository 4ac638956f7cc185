#include "daemon/pipeline/stream_flusher.h"

#include <algorithm>

namespace logship {
namespace {

// Longest sleep between looks at the earliest deadline: a stream that became due since waits at
// most this. A look is one atomic load; a pass over the streams happens only when one is due.
constexpr std::chrono::milliseconds kMaxSleep{100};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

}  // namespace

void StreamFlusher::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      const int64_t now = steady_ns();
      int64_t next = earliest_.load(std::memory_order_acquire);
      if (next != 0 && next <= now) {
        // Taken before the pass: a deadline published during it lowers it again.
        earliest_.exchange(0, std::memory_order_acquire);
        next = flush_due(now);
        if (next != 0) lower_due(earliest_, next);
        next = earliest_.load(std::memory_order_acquire);
      }
      const int64_t max_wake = now + std::chrono::nanoseconds(kMaxSleep).count();
      const int64_t wake = next == 0 ? max_wake : std::min(next, max_wake);
      lock.lock();
      if (stop_) break;
      cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(wake - steady_ns(), 0)));
    }
  });
}

void StreamFlusher::add(const std::shared_ptr<FlushableStream>& s) {
  s->earliest_.store(&earliest_, std::memory_order_release);
  if (const int64_t due = s->due_ns(); due != 0) lower_due(earliest_, due);
  std::lock_guard lock(mu_);
  // Released streams are dropped by passes; with none due for long, here.
  if (streams_.size() >= 2 * live_ + 64) {
    std::erase_if(streams_, [](const auto& w) { return w.expired(); });
    live_ = streams_.size();
  }
  streams_.push_back(s);
}

int64_t StreamFlusher::flush_due(int64_t now_ns) {
  // Take the live streams out of the list so no lock is held while flushing (a flush may wait
  // for room in a full output queue).
  std::vector<std::shared_ptr<FlushableStream>> due;
  int64_t next = 0;
  {
    std::lock_guard lock(mu_);
    std::erase_if(streams_, [](const auto& w) { return w.expired(); });
    live_ = streams_.size();
    for (const auto& w : streams_) {
      auto s = w.lock();
      if (!s) continue;
      const int64_t d = s->due_ns();
      if (d == 0) continue;
      if (d <= now_ns) {
        due.push_back(std::move(s));
      } else if (next == 0 || d < next) {
        next = d;
      }
    }
  }
  for (auto& s : due) {
    if (!s->try_flush(false)) break;
  }
  return next;
}

void StreamFlusher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<std::shared_ptr<FlushableStream>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : streams_) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
    streams_.clear();
  }
  for (auto& s : live) {
    if (!s->try_flush(true)) break;
  }
  // A stream may outlive the flusher: it no longer tells it its deadlines.
  for (auto& s : live) s->earliest_.store(nullptr, std::memory_order_release);
}

}  // namespace logship
