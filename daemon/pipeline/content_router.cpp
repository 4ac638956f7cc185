#include "daemon/pipeline/content_router.h"

#include <algorithm>

namespace logship {

ContentRouter::ContentRouter(std::vector<RouteRule> rules, std::atomic<uint64_t>* dropped)
    : rules_(std::move(rules)), dropped_(dropped), counts_(rules_.size()) {
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].unmatched) unmatched_ = static_cast<int>(i);
    rules_[i].source_only = rules_[i].condition && rules_[i].condition->source_only();
    if (rules_[i].condition && !rules_[i].source_only) per_event_ = true;
  }
}

void ContentRouter::split(BatchPtr batch, std::vector<BatchPtr>* parts) {
  parts->clear();
  parts->resize(rules_.size());
  const auto& events = batch->events();
  const SourceInfo& src = batch->source();
  taken_.assign(events.size(), 0);
  std::fill(counts_.begin(), counts_.end(), 0);
  uint64_t dropped = 0;
  // Conditions on the source alone (labels, input) hold for all of the batch or none of it.
  uint64_t source_false = 0;
  for (std::size_t r = 0; r < rules_.size() && !events.empty(); ++r) {
    const auto& c = rules_[r].condition;
    if (c && c->source_only() && !c->matches(events.front(), src, &scratch_)) {
      source_false |= uint64_t{1} << r;
    }
  }
  // Without a condition on the events themselves every event goes the same way: decided once.
  const std::size_t decide = per_event_ ? events.size() : std::min<std::size_t>(events.size(), 1);
  for (std::size_t e = 0; e < decide; ++e) {
    uint64_t bits = 0;
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      const RouteRule& rule = rules_[r];
      if (rule.unmatched || (source_false & (uint64_t{1} << r))) continue;
      if (rule.condition && !rule.source_only &&
          !rule.condition->matches(events[e], src, &scratch_)) {
        continue;
      }
      bits |= uint64_t{1} << r;
      ++counts_[r];
      if (rule.exclusive) break;
    }
    if (bits == 0) {
      if (unmatched_ >= 0) {
        bits = uint64_t{1} << unmatched_;
        ++counts_[static_cast<std::size_t>(unmatched_)];
      } else {
        ++dropped;
      }
    }
    taken_[e] = bits;
  }
  if (!per_event_ && !events.empty()) {
    std::fill(taken_.begin() + 1, taken_.end(), taken_.front());
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      if (counts_[r] != 0) counts_[r] = events.size();
    }
    if (dropped != 0) dropped = events.size();
  }
  if (dropped != 0 && dropped_ != nullptr) dropped_->fetch_add(dropped, std::memory_order_relaxed);
  // The last rule taking every event gets the batch itself; the others get copies.
  int whole = -1;
  for (std::size_t r = rules_.size(); r-- > 0;) {
    if (counts_[r] == 0) continue;
    if (counts_[r] == events.size()) whole = static_cast<int>(r);
    break;
  }
  for (std::size_t r = 0; r < rules_.size(); ++r) {
    if (counts_[r] == 0 || static_cast<int>(r) == whole) continue;
    auto part = std::make_unique<Batch>(batch->source_ptr(), counts_[r]);
    for (std::size_t e = 0; e < events.size(); ++e) {
      if (taken_[e] & (uint64_t{1} << r)) part->add_copy(events[e]);
    }
    batch->acks().share_into(part->acks());
    (*parts)[r] = std::move(part);
  }
  if (whole >= 0) {
    (*parts)[static_cast<std::size_t>(whole)] = std::move(batch);   // keeps the original reference
  } else {
    batch->acks().release();   // every part holds its own; events nobody took are handled
  }
}

}  // namespace logship
