#pragma once
// Flushes every input's streams on time. Processors that hold events back (multiline groups)
// emit them after their flush timeout, but only when someone calls StreamHandle::flush; inputs
// that block in a read or poll without a deadline (a quiet syslog connection, stdin) never do.
// One thread here calls flush on each stream whose deadline passed, whatever its input, and
// flushes everything once more at shutdown, after the inputs stopped.
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "daemon/core/clock.h"

namespace logship {

// Lowers `earliest` to `ns` (0 = none).
inline void lower_due(std::atomic<int64_t>& earliest, int64_t ns) {
  int64_t cur = earliest.load(std::memory_order_relaxed);
  while ((cur == 0 || ns < cur) &&
         !earliest.compare_exchange_weak(cur, ns, std::memory_order_release,
                                         std::memory_order_relaxed)) {
  }
}

// What the flusher needs of a stream. The stream publishes its next deadline after each
// emit/flush (one relaxed store, and lowering the flusher's earliest deadline) so the flusher
// looks at its streams only when one is due: 10,000 quiet files cost it nothing.
class FlushableStream {
 public:
  virtual ~FlushableStream() = default;
  // Steady-clock ns of the next flush, 0 when nothing is held.
  int64_t due_ns() const { return due_ns_.load(std::memory_order_relaxed); }
  // Flushes what is due (all when `force`) unless the stream's own thread is busy with it
  // right now (that thread then flushes or emits itself). False: shutting down past the deadline.
  virtual bool try_flush(bool force) = 0;

 protected:
  void publish_due(int64_t ns) {
    due_ns_.store(ns, std::memory_order_relaxed);
    if (ns == 0) return;
    if (std::atomic<int64_t>* e = earliest_.load(std::memory_order_acquire)) lower_due(*e, ns);
  }

 private:
  friend class StreamFlusher;
  std::atomic<int64_t> due_ns_{0};
  std::atomic<std::atomic<int64_t>*> earliest_{nullptr};   // the flusher's, once added
};

class StreamFlusher {
 public:
  StreamFlusher() = default;
  ~StreamFlusher() { stop(); }
  StreamFlusher(const StreamFlusher&) = delete;
  StreamFlusher& operator=(const StreamFlusher&) = delete;

  void start();
  void add(const std::shared_ptr<FlushableStream>& s);
  // Ends the thread, then force-flushes every stream still open.
  void stop();
  // One pass: flushes the streams that are due at `now`. Returns the earliest deadline left.
  int64_t flush_due(int64_t now_ns);

 private:
  std::mutex mu_;   // streams_ and stop_
  std::condition_variable cv_;
  std::vector<std::weak_ptr<FlushableStream>> streams_;
  std::size_t live_ = 0;               // streams_ left by the last clean-up
  // The earliest deadline any stream published since the last pass (0 = none): the thread
  // passes over streams_ only when it is due.
  std::atomic<int64_t> earliest_{0};
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace logship
