#include "processors/throttle/delay_queue.h"

namespace logship::plugins::throttle {

DelayQueue::~DelayQueue() {
  // Events still held were never delivered: their references go without settling anything
  // twice, and the checkpoint stays before them (they are read again after a restart).
  for (auto& [id, c] : chunks_) c.batch->acks().release();
}

void DelayQueue::hold(std::string_view key, const Event& e, Batch& from) {
  if (open_ == 0) {
    open_ = next_chunk_++;
    Chunk c;
    c.batch = std::make_unique<Batch>(from.source_ptr(), 16, 4096);
    from.acks().share_into(c.batch->acks());
    chunks_.emplace(open_, std::move(c));
  }
  Chunk& c = chunks_.at(open_);
  c.batch->add_copy(e);
  ++c.remaining;
  auto q = queues_.find(key);
  if (q == queues_.end()) q = queues_.emplace(std::string(key), std::deque<Held>{}).first;
  q->second.push_back(Held{open_, static_cast<uint32_t>(c.batch->size() - 1)});
  ++events_;
}

void DelayQueue::end_batch() {
  if (open_ == 0) return;
  Chunk& c = chunks_.at(open_);
  const std::size_t now = c.batch->byte_size();
  bytes_ += now - c.bytes;
  c.bytes = now;
  open_ = 0;
}

void DelayQueue::drop_chunk(std::unordered_map<uint64_t, Chunk>::iterator it) {
  it->second.batch->acks().release();
  bytes_ -= it->second.bytes;
  chunks_.erase(it);
}

std::size_t DelayQueue::release(Batch& out, const std::function<bool(std::string_view)>& may_go,
                                bool force) {
  const uint64_t release = ++releases_;
  std::size_t n = 0;
  for (auto q = queues_.begin(); q != queues_.end();) {
    auto& held = q->second;
    while (!held.empty() && (force || may_go(q->first))) {
      const Held h = held.front();
      auto c = chunks_.find(h.chunk);
      Chunk& chunk = c->second;
      if (chunk.shared_into != release) {
        // Before the copy: the out batch holds the acks of every event it carries.
        chunk.batch->acks().share_into(out.acks());
        chunk.shared_into = release;
      }
      out.add_copy(chunk.batch->events()[h.index]);
      held.pop_front();
      --events_;
      ++n;
      if (--chunk.remaining == 0 && h.chunk != open_) drop_chunk(c);
    }
    q = held.empty() ? queues_.erase(q) : std::next(q);
  }
  return n;
}

void DelayQueue::for_each_key(const std::function<void(std::string_view)>& f) const {
  for (const auto& [key, held] : queues_) f(key);
}

}  // namespace logship::plugins::throttle
