#pragma once
// Acknowledgements, counted per batch. An input's AckTracker (one per stream) hands out an entry
// for each batch with the position the batch ends at. The entry's `pending` counts references:
// one per output the batch was given to, plus one per processor still holding data of it.
// When it reaches zero the batch is settled; the tracker commits only the contiguous prefix of
// settled batches, so a checkpoint never passes data some output has not delivered.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/core/position.h"

namespace logship {

class AckTracker;

struct AckEntry {
  std::shared_ptr<AckTracker> tracker;
  uint64_t seq = 0;
  std::atomic<int32_t> pending{1};
  void release(int32_t n = 1);
};
using AckRef = std::shared_ptr<AckEntry>;

// Receives committed positions (the checkpoint store).
class CommitSink {
 public:
  virtual ~CommitSink() = default;
  virtual void commit(const std::string& key, const Position& pos) = 0;
};

class AckTracker : public std::enable_shared_from_this<AckTracker> {
 public:
  // `sink` may be null (sources that are not replayable); it must outlive the tracker.
  static std::shared_ptr<AckTracker> create(std::string key, CommitSink* sink);
  // The tracker shares ownership of the sink: for sinks whose owner may go away while batches
  // of the stream are still out.
  static std::shared_ptr<AckTracker> create(std::string key, std::shared_ptr<CommitSink> sink);

  // A new entry with one reference, owned by the caller (the batch being built).
  AckRef track(Position end);
  std::optional<Position> committed() const;
  uint64_t unsettled() const;      // batches handed out and not yet settled
  const std::string& key() const { return key_; }

 private:
  friend struct AckEntry;
  AckTracker(std::string key, CommitSink* sink) : key_(std::move(key)), sink_(sink) {}
  void settle(uint64_t seq);

  struct Slot {
    Position end;
    bool settled = false;
  };
  // The batches handed out and not settled, oldest first, in a ring that takes no memory until
  // the first batch and gives it back when it empties after a burst: a stream that sleeps holds
  // nothing here (a std::deque holds a 512-byte block even empty, 10,000 times on a big node).
  class Slots {
   public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    Slot& operator[](std::size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
    Slot& front() { return (*this)[0]; }
    void push_back(Slot s);
    void pop_front();

   private:
    std::vector<Slot> ring_;   // size 0 or a power of two
    std::size_t head_ = 0;
    std::size_t count_ = 0;
  };
  const std::string key_;
  CommitSink* const sink_;
  std::shared_ptr<CommitSink> owned_sink_;
  mutable std::mutex mu_;
  Slots slots_;   // slots_[0] has sequence number base_
  uint64_t base_ = 0;
  uint64_t next_ = 0;
  std::optional<Position> committed_;
};

// The acknowledgement references a batch carries. Usually one entry; a processor that merged
// held data into this batch adds the entries it held.
class AckSet {
 public:
  void add(AckRef ref) { entries_.push_back(std::move(ref)); }
  // Adds n references to every entry (fan-out to n outputs, or a processor holding on).
  void retain(int32_t n) const {
    for (const auto& e : entries_) e->pending.fetch_add(n, std::memory_order_relaxed);
  }
  // Drops one reference of every entry; the last drop settles the batch in its tracker.
  void release() const {
    for (const auto& e : entries_) e->release();
  }
  // The holder keeps its own reference to every entry of this set (a processor holding data).
  void share_into(AckSet& holder) const {
    for (const auto& e : entries_) {
      e->pending.fetch_add(1, std::memory_order_relaxed);
      holder.entries_.push_back(e);
    }
  }
  void take_from(AckSet& other) {
    for (auto& e : other.entries_) entries_.push_back(std::move(e));
    other.entries_.clear();
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<AckRef> entries_;
};

}  // namespace logship
