#pragma once
// Parses a `_bulk` response: HTTP 200 may still carry failed items, in request order.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "daemon/core/status.h"

namespace logship::plugins::es {

struct BulkItem {
  int status = 0;
  std::string reason;   // "type: reason (caused_by: ...)" for failed items, else empty
};

struct BulkResponse {
  bool errors = false;
  // Filled only when `errors` is true (the fast path skips the items).
  std::vector<BulkItem> items;
};

enum class ItemOutcome { kAcked, kDuplicate, kRetry, kDeadLetter };

// What to do with an item of that status: 2xx acked; 409 on `create` already there; 400/404
// permanent (dead-letter); 429, 5xx and anything else retried.
ItemOutcome classify_item(int status, bool create_action);

class BulkResponseParser {
 public:
  // An error when the body is not a bulk response or, with errors, its item count differs from
  // `expected_items`. `out` is filled in place so a sender reuses its items' storage.
  Status parse(std::string_view body, std::size_t expected_items, BulkResponse* out);

 private:
  simdjson::dom::parser parser_;
};

}  // namespace logship::plugins::es
