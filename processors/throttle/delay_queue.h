#pragma once
// The events a throttle in delay mode holds back, in one queue per key, for one stream.
//
// Held events are copied into chunks (one per batch that had any, with its own reference to
// that batch's acks), so the checkpoint cannot pass a held line. Releasing an event copies it
// into the batch that carries it on and shares its chunk's acks into that batch first; a chunk
// whose last event left lets its reference go. So nothing is acknowledged before it was
// delivered, and a line is never held twice or lost from the hold.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/core/batch.h"

namespace logship::plugins::throttle {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class DelayQueue {
 public:
  DelayQueue() = default;
  ~DelayQueue();
  DelayQueue(const DelayQueue&) = delete;
  DelayQueue& operator=(const DelayQueue&) = delete;

  bool empty() const { return events_ == 0; }
  bool holds(std::string_view key) const { return queues_.find(key) != queues_.end(); }
  // Starts a batch: the events held until end_batch() share one chunk.
  void begin_batch() { open_ = 0; }
  // A copy of `e` (an event of `from`) joins the back of `key`'s queue.
  void hold(std::string_view key, const Event& e, Batch& from);
  // Accounts the bytes of the chunk the batch filled.
  void end_batch();
  // Appends to `out`, key by key in each key's order, the front events of every key for which
  // `may_go(key)` says yes, until it says no; `force`: everything. Returns the count released.
  std::size_t release(Batch& out, const std::function<bool(std::string_view)>& may_go,
                      bool force);
  // Calls `f(key)` for every key with held events.
  void for_each_key(const std::function<void(std::string_view)>& f) const;

  uint64_t events() const { return events_; }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Held {
    uint64_t chunk;
    uint32_t index;
  };
  struct Chunk {
    BatchPtr batch;
    uint32_t remaining = 0;
    std::size_t bytes = 0;          // accounted so far
    uint64_t shared_into = 0;       // the release whose batch already carries this chunk's acks
  };
  void drop_chunk(std::unordered_map<uint64_t, Chunk>::iterator it);

  std::unordered_map<std::string, std::deque<Held>, StringHash, std::equal_to<>> queues_;
  std::unordered_map<uint64_t, Chunk> chunks_;
  uint64_t next_chunk_ = 1;
  uint64_t open_ = 0;        // the chunk of the batch being processed (0: none yet)
  uint64_t releases_ = 0;
  uint64_t events_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace logship::plugins::throttle
