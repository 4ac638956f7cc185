#include "outputs/elasticsearch/bulk_response.h"

namespace logship::plugins::es {

ItemOutcome classify_item(int status, bool create_action) {
  if (status >= 200 && status < 300) return ItemOutcome::kAcked;
  if (status == 409 && create_action) return ItemOutcome::kDuplicate;
  if (status == 400 || status == 404) return ItemOutcome::kDeadLetter;
  return ItemOutcome::kRetry;
}

namespace {

void append_error(std::string* out, simdjson::dom::element err) {
  if (err.is_string()) {
    out->append(std::string_view(err.get_string().value_unsafe()));
    return;
  }
  std::string_view type, reason;
  if (err["type"].get(type) == simdjson::SUCCESS) out->append(type);
  if (err["reason"].get(reason) == simdjson::SUCCESS) {
    if (!out->empty()) out->append(": ");
    out->append(reason);
  }
  simdjson::dom::element cause;
  if (err["caused_by"].get(cause) == simdjson::SUCCESS && cause.is_object()) {
    out->append(" (caused_by: ");
    append_error(out, cause);
    out->push_back(')');
  }
}

}  // namespace

Status BulkResponseParser::parse(std::string_view body, std::size_t expected_items,
                                 BulkResponse* out) {
  out->errors = false;
  out->items.clear();
  simdjson::dom::element doc;
  if (auto ec = parser_.parse(body.data(), body.size()).get(doc); ec != simdjson::SUCCESS) {
    return Status::corrupt(std::string("bulk response is not JSON: ") +
                           simdjson::error_message(ec));
  }
  bool errors = false;
  if (doc["errors"].get(errors) != simdjson::SUCCESS) {
    return Status::corrupt("bulk response has no boolean 'errors'");
  }
  out->errors = errors;
  if (!errors) return Status::ok();
  simdjson::dom::array items;
  if (doc["items"].get(items) != simdjson::SUCCESS) {
    return Status::corrupt("bulk response with errors has no 'items'");
  }
  out->items.reserve(expected_items);
  for (simdjson::dom::element item : items) {
    simdjson::dom::object obj;
    if (item.get(obj) != simdjson::SUCCESS || obj.begin() == obj.end()) {
      return Status::corrupt("bulk response item is not an object");
    }
    // Each item is keyed by its action name: {"create":{...}}.
    simdjson::dom::element result = (*obj.begin()).value;
    BulkItem bi;
    int64_t status = 0;
    if (result["status"].get(status) != simdjson::SUCCESS) {
      return Status::corrupt("bulk response item has no status");
    }
    bi.status = static_cast<int>(status);
    if (bi.status < 200 || bi.status >= 300) {
      simdjson::dom::element err;
      if (result["error"].get(err) == simdjson::SUCCESS) append_error(&bi.reason, err);
      if (bi.reason.empty()) bi.reason = "status " + std::to_string(bi.status);
    }
    out->items.push_back(std::move(bi));
  }
  if (out->items.size() != expected_items) {
    return Status::corrupt("bulk response has " + std::to_string(out->items.size()) +
                           " items for " + std::to_string(expected_items) + " actions");
  }
  return Status::ok();
}

}  // namespace logship::plugins::es
