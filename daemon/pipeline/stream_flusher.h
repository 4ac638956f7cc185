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

// What the flusher needs of a stream. The stream publishes its next deadline after each
// emit/flush (one relaxed store) so the flusher locks only streams that are due.
class FlushableStream {
 public:
  virtual ~FlushableStream() = default;
  // Steady-clock ns of the next flush, 0 when nothing is held.
  int64_t due_ns() const { return due_ns_.load(std::memory_order_relaxed); }
  // Flushes what is due (all when `force`) unless the stream's own thread is busy with it
  // right now (that thread then flushes or emits itself). False: shutting down past the deadline.
  virtual bool try_flush(bool force) = 0;

 protected:
  void publish_due(int64_t ns) { due_ns_.store(ns, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> due_ns_{0};
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
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace logship
