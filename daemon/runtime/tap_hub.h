#pragma once
// Live taps on the pipeline (`logship tap`, GET /api/tap): a tap point is a place events pass
// (after an input, after a named processor, before an output); a subscription is one client
// watching one point, with a condition, a rate limit and a bounded queue of rendered lines.
//
// Costs: a point nobody taps costs its `active()` check, one relaxed atomic load per batch.
// A tapped point renders the events that pass the filter and the rate limit into the
// subscription's queue; a full queue (a client that reads slowly or not at all) drops the line
// and counts it. The pipeline never waits for a client: only the short copy into the queue is
// under the point's lock, which the client side holds just as long as a swap of its queue.
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/clock.h"
#include "daemon/core/condition/condition.h"
#include "daemon/core/status.h"

namespace logship {

struct TapOptions {
  std::shared_ptr<const condition::Condition> where;   // null: every event
  double rate_per_second = 100;                          // tokens per second; burst the same
  enum class Format : uint8_t { kJson, kLine } format = Format::kJson;
  std::size_t max_queued_lines = 8192;   // a few whole batches: a batch arrives at once
  std::size_t max_queued_bytes = 2 << 20;
};

class TapPoint;

// One client's view of one point. The pipeline side calls offer() (under the point's lock);
// the client side calls take() and the counters from any thread.
class TapSubscription {
 public:
  TapSubscription(std::string point, TapOptions options, TimePoint now);

  // Lines queued since the last take, in order.
  std::deque<std::string> take();
  const std::string& point() const { return point_; }
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped_slow() const { return dropped_slow_.load(std::memory_order_relaxed); }
  uint64_t dropped_rate() const { return dropped_rate_.load(std::memory_order_relaxed); }
  // Set by the point when it queues a line; cleared by take(): the client polls it cheaply.
  bool has_lines() const { return pending_.load(std::memory_order_acquire); }

 private:
  friend class TapPoint;
  void offer(const Batch& batch, std::string* scratch, TimePoint now);
  bool take_token(TimePoint now);

  const std::string point_;
  const TapOptions options_;
  double tokens_;
  TimePoint refilled_;
  std::mutex queue_mu_;
  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::atomic<bool> pending_{false};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_slow_{0};
  std::atomic<uint64_t> dropped_rate_{0};
};

class TapPoint {
 public:
  explicit TapPoint(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  // The whole cost of an untapped point.
  bool active() const { return subscribers_.load(std::memory_order_relaxed) != 0; }
  // Offers every event of the batch to each subscription (filter, rate limit, bounded queue).
  void offer(const Batch& batch);

 private:
  friend class TapHub;
  const std::string name_;
  std::atomic<int> subscribers_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<TapSubscription>> subs_;
  std::string scratch_;   // under mu_: the condition's scratch
};

class TapHub {
 public:
  static TapHub& global();
  static constexpr std::size_t kMaxSubscriptions = 16;

  // The point of that name, made on first use and never freed, so a pipeline keeps plain
  // pointers across reloads. Names: "input:NAME", "processor:NAME", "output:NAME".
  TapPoint* point(const std::string& name);
  // The points of the running pipeline (a reload replaces them); subscribe() takes only these.
  void set_live_points(std::vector<std::string> names);
  std::vector<std::string> live_points() const;

  // Invalid when the point is unknown; unavailable when kMaxSubscriptions are open.
  Result<std::shared_ptr<TapSubscription>> subscribe(const std::string& point,
                                                     TapOptions options);
  void unsubscribe(const std::shared_ptr<TapSubscription>& sub);

  // Counted for /metrics by every subscription (sent, and dropped per reason).
  std::atomic<uint64_t>& sent_counter() { return *sent_; }
  std::atomic<uint64_t>& slow_counter() { return *dropped_slow_; }
  std::atomic<uint64_t>& rate_counter() { return *dropped_rate_; }

 private:
  TapHub();
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<TapPoint>, std::less<>> points_;
  std::vector<std::string> live_;
  std::size_t open_ = 0;
  std::atomic<uint64_t>* sent_;
  std::atomic<uint64_t>* dropped_slow_;
  std::atomic<uint64_t>* dropped_rate_;
  std::atomic<int64_t>* active_;
};

// One event as a tap line, '\n' included: JSON ({"point":..,"input":..,"event":{..}}) or the
// readable form "<time> <point> <input> <stream>: <message> key=value...".
void render_tap_line(std::string& out, TapOptions::Format format, std::string_view point,
                     const Event& e, const SourceInfo& source);

}  // namespace logship
