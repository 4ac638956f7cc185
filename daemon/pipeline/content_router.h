#pragma once
// Splits a stream's batches between the routes that take them by content. Each route that takes
// any event gets its own batch (the whole batch, moved, when it is the only taker of all of it);
// every part holds its own reference to the original batch's acknowledgements, and the original
// reference is released, so:
//   - an event no route takes is handled (the checkpoint moves past it), and counted;
//   - an event two routes take settles only when both routes' outputs delivered it.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/condition/condition.h"

namespace logship {

struct RouteRule {
  std::shared_ptr<const condition::Condition> condition;   // null: takes every event
  bool exclusive = false;   // events it takes are not offered to later rules
  bool unmatched = false;   // takes what no other rule took
  bool source_only = false;   // set by the router: the condition tests the source alone
};

class ContentRouter {
 public:
  static constexpr std::size_t kMaxRules = 64;
  // `dropped` counts the events no rule takes (may be null).
  ContentRouter(std::vector<RouteRule> rules, std::atomic<uint64_t>* dropped);

  // parts->at(i) is the batch for rule i, or null when rule i takes no event of this batch.
  void split(BatchPtr batch, std::vector<BatchPtr>* parts);

 private:
  std::vector<RouteRule> rules_;
  std::atomic<uint64_t>* dropped_;
  int unmatched_ = -1;
  bool per_event_ = false;   // some rule tests the events, not only their source
  std::vector<uint64_t> taken_;   // per event: bit i set when rule i takes it (reused)
  std::vector<std::size_t> counts_;
  std::string scratch_;
};

}  // namespace logship
