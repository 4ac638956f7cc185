#include "daemon/core/ack.h"

namespace logship {

void AckEntry::release(int32_t n) {
  if (pending.fetch_sub(n, std::memory_order_acq_rel) == n) {
    tracker->settle(seq);
  }
}

std::shared_ptr<AckTracker> AckTracker::create(std::string key, CommitSink* sink) {
  return std::shared_ptr<AckTracker>(new AckTracker(std::move(key), sink));
}

std::shared_ptr<AckTracker> AckTracker::create(std::string key, std::shared_ptr<CommitSink> sink) {
  auto t = std::shared_ptr<AckTracker>(new AckTracker(std::move(key), sink.get()));
  t->owned_sink_ = std::move(sink);
  return t;
}

void AckTracker::Slots::push_back(Slot s) {
  if (count_ == ring_.size()) {
    std::vector<Slot> bigger(ring_.empty() ? 4 : ring_.size() * 2);
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move((*this)[i]);
    ring_ = std::move(bigger);
    head_ = 0;
  }
  (*this)[count_] = std::move(s);
  ++count_;
}

void AckTracker::Slots::pop_front() {
  front() = Slot{};
  head_ = (head_ + 1) & (ring_.size() - 1);
  --count_;
  // Past a burst, an empty ring goes back to nothing; a small one stays for the next batch.
  if (count_ == 0 && ring_.size() > 16) {
    ring_ = {};
    head_ = 0;
  }
}

AckRef AckTracker::track(Position end) {
  auto entry = std::make_shared<AckEntry>();
  entry->tracker = shared_from_this();
  std::lock_guard lock(mu_);
  entry->seq = next_++;
  slots_.push_back(Slot{std::move(end), false});
  return entry;
}

void AckTracker::settle(uint64_t seq) {
  // The sink is called under the lock so that commits of one stream reach it in order.
  std::lock_guard lock(mu_);
  if (seq < base_ || seq - base_ >= slots_.size()) {
    return;  // cannot happen: an entry settles once
  }
  slots_[seq - base_].settled = true;
  bool advanced = false;
  while (!slots_.empty() && slots_.front().settled) {
    committed_ = std::move(slots_.front().end);
    slots_.pop_front();
    ++base_;
    advanced = true;
  }
  if (advanced && sink_ != nullptr) {
    sink_->commit(key_, *committed_);
  }
}

std::optional<Position> AckTracker::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

uint64_t AckTracker::unsettled() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

}  // namespace logship
