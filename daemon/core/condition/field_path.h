#pragma once
// Reads a field by a dotted path: the field of exactly that key (parsers may store flattened
// keys such as "http.status"), else a member inside a field holding a JSON object
// ({"http": {"status": 500}} kept as raw JSON). No heap allocation: strings with escapes are
// decoded into the caller's scratch buffer, which keeps its capacity between calls.
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/event.h"

namespace logship::condition {

// The value at `path` in `e`, or nullopt when absent. A value returned as a string may view
// `scratch`, valid until the next call with the same scratch.
std::optional<Value> lookup_field(const Event& e, std::string_view path, std::string* scratch);

// The member `key` of the JSON object `object_json` (its text), or nullopt when it is not an
// object or has no such member. Nested objects and arrays come back as raw JSON.
std::optional<Value> json_member(std::string_view object_json, std::string_view key,
                                 std::string* scratch);

}  // namespace logship::condition
