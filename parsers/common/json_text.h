#pragma once
// JSON text helpers shared by the json parser and modify's nest and flatten: the object test,
// simdjson's padded copy, and taking a nested value's text whole (validated, minified when it
// spans lines).
#include <simdjson.h>

#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace logship::parsers::json_text {

// JSON's insignificant whitespace.
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// True when `s` (raw JSON text) is an object: its first non-space character is '{'.
bool is_object(std::string_view s);

// Copies `s` into `buf` with simdjson's padding after it; returns the buffer's capacity.
std::size_t fill_padded(std::vector<char>& buf, std::string_view s);

// The text of the object or array `v` of `doc`, every byte validated (On-Demand alone only
// checks brackets of a value it skips).
bool take_raw(simdjson::ondemand::document& doc, simdjson::ondemand::value v,
              std::string_view* raw);

// Copies validated raw JSON into the arena, minified when it has line breaks so JSON-lines
// outputs stay one event per line.
std::string_view keep_raw(Batch& b, std::string_view raw);

}  // namespace logship::parsers::json_text
