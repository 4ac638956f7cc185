#pragma once
// The three plugin interfaces and the contexts the core hands them.
//
// Threads: each input runs its own thread(s); a stream's processors run on the thread that calls
// StreamHandle::emit/flush, so processors need no locks. Each output runs on its own runner
// thread; `done` callbacks may come from any thread.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/clock.h"
#include "daemon/core/position.h"
#include "daemon/core/status.h"

namespace logship {

// One source stream (a file, a journal, a FIFO) and the route its batches take.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  // An empty batch for this stream.
  virtual BatchPtr new_batch(std::size_t expected_events = 256) = 0;
  // Runs the route's processors and hands the batch to its outputs. `end` is the position just
  // after the batch's last byte; it is committed once every output delivered this batch and
  // everything before it. Blocks while an output queue is full (backpressure). Returns false
  // only when the daemon is shutting down past its deadline; the batch then stays un-acked.
  virtual bool emit(BatchPtr batch, Position end) = 0;
  // Emits what processors hold back whose flush time passed; everything when `force`.
  virtual bool flush(bool force) = 0;
  // When flush() should next be called, if processors hold anything.
  virtual std::optional<TimePoint> next_flush() const = 0;
  // Batches emitted and not yet delivered everywhere.
  virtual uint64_t unsettled() const = 0;
  virtual std::optional<Position> committed() const = 0;
  // Whether its processors keep state of their own per stream (multiline, dedup, throttle...)
  // that a new stream of the same source would start without. A stream without any, settled
  // and holding nothing, may be dropped by an idle input and opened again when data comes.
  virtual bool keeps_state() const { return true; }
};

class InputContext {
 public:
  virtual ~InputContext() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& state_dir() const = 0;
  // `checkpointed`: commits go to the checkpoint store (replayable sources).
  virtual std::unique_ptr<StreamHandle> open_stream(std::shared_ptr<const SourceInfo> source,
                                                    bool checkpointed = true) = 0;
  virtual std::optional<Position> saved_position(const std::string& key) const = 0;
  // Every saved position whose key starts with `prefix`: a file input looks there for the
  // checkpoint of a generation that was compressed while it was not reading it.
  virtual std::vector<std::pair<std::string, Position>> saved_positions(
      std::string_view prefix) const {
    return {};
  }
  // The stream is gone for good (file deleted and read to its end): drop its checkpoint.
  virtual void forget_position(const std::string& key) = 0;
  // Stop was requested: finish the current read, flush and return from the input's threads.
  virtual bool stopping() const = 0;
  // The input has read everything it ever will (a counted generator, stdin at EOF).
  virtual void finished() = 0;
};

class Input {
 public:
  virtual ~Input() = default;
  // Starts the input's thread(s). Returns an error only for problems no retry can fix.
  virtual Status start(InputContext& ctx) = 0;
  // Stops reading, flushes streams (force) and joins the threads. No emit follows.
  virtual void stop() = 0;
  // Called once at daemon start, before privileges are dropped and before any thread exists,
  // on an instance that is then discarded: binds the listening sockets that need privilege
  // (ports below 1024) into ListenSockets, where start() takes them, after reloads too.
  virtual Status bind_privileged() { return Status::ok(); }
};

class Processor {
 public:
  virtual ~Processor() = default;
  // Changes, drops or merges the batch's events in place. A processor that holds events back
  // across batches copies them and keeps references to the batch's acks (AckSet::share_into),
  // then moves those references into the batch that finally carries the events.
  virtual void process(Batch& batch) = 0;
  // Emits held events into `out` whose flush time passed, or all of them when `force`.
  virtual void flush(Batch& out, TimePoint now, bool force) {}
  virtual std::optional<TimePoint> next_flush() const { return std::nullopt; }
  // True while the processor holds more than it may (a throttle in delay mode over its bound):
  // the stream's reader then waits in emit, flushing as next_flush() comes due, until it is
  // false again, as it waits for a full output queue. Only time must be able to end it.
  virtual bool over_hold_limit() const { return false; }
};

// Why events can never be delivered, whatever the wait: they are dead-lettered and acknowledged
// so the events around them go on. The name is the `error` label of
// logship_output_dead_lettered_total and the "error" key of the dead-letter line; the detail
// (the server's or the kernel's words) is its "reason". Retriable failures (an outage, 429, ECONNREFUSED, ENOSPC, EIO) are not
// listed here: the output reports them as DeliveryResult::retry and the runner backs off.
enum class PermanentError : unsigned char {
  kRejected,   // the destination refused these events (a 400 mapping error, an invalid record)
  kTooLarge,   // bigger than the destination accepts (Kafka message size, HTTP 413)
  kBadPath,    // a rendered path that cannot name a regular file (ENAMETOOLONG, EISDIR, ENOTDIR)
  kSymlink,    // a symbolic link where the output file should be: refused, never followed
};
inline constexpr PermanentError kAllPermanentErrors[] = {
    PermanentError::kRejected, PermanentError::kTooLarge, PermanentError::kBadPath,
    PermanentError::kSymlink};
constexpr std::string_view permanent_error_name(PermanentError e) {
  switch (e) {
    case PermanentError::kRejected: return "rejected";
    case PermanentError::kTooLarge: return "too_large";
    case PermanentError::kBadPath: return "bad_path";
    case PermanentError::kSymlink: return "symlink";
  }
  return "rejected";
}

// What became of a delivery: every event settled (delivered, or dead-lettered one by one through
// OutputContext::dead_letter), or nothing is acknowledged and the runner retries it whole.
struct DeliveryResult {
  enum class Kind { kDelivered, kRetry };
  Kind kind = Kind::kDelivered;
  std::string reason;
  static DeliveryResult delivered() { return {}; }
  static DeliveryResult retry(std::string why) { return {Kind::kRetry, std::move(why)}; }
};
using DeliverDone = std::function<void(DeliveryResult)>;

class OutputContext {
 public:
  virtual ~OutputContext() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& state_dir() const = 0;
  // The one way an output settles an event that can never be delivered: writes it with the
  // reason to the dead-letter file, counts it per reason and logs (rate-limited). The output
  // then reports the delivery as delivered for that event. Thread-safe. An error means the
  // dead-letter file could not be written: the output must retry the event, not drop it.
  virtual Status dead_letter(const Event& e, const SourceInfo& source, PermanentError why,
                             std::string_view detail) = 0;
};

class Output {
 public:
  virtual ~Output() = default;
  // No connecting here: an unreachable server is not a config error.
  virtual Status start(OutputContext& ctx) = 0;
  // Delivers durably, then calls `done` exactly once (from any thread). At most
  // max_in_flight() calls are outstanding. The batches stay alive until `done`.
  virtual void deliver(std::span<const SharedBatch> batches, DeliverDone done) = 0;
  // Called on the runner thread about every 100 ms: time-based rotation, interval fsync, flushes.
  virtual void tick(TimePoint now) {}
  // Called once after the runner drained or gave up; releases resources. Outstanding deliveries
  // must call `done` (with retry) before this returns.
  virtual void stop() = 0;
  virtual int max_in_flight() const { return 1; }
};

}  // namespace logship
