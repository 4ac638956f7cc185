#pragma once
// modify's `nest`: moves a set of fields, named or by prefix, under one object field (Fluent
// Bit's nest filter, `Operation nest`: Wildcard, Nest_under, Remove_prefix).
//
// Collisions: when `under` already holds an object the moved fields join its members, a moved
// field replacing a member of the same name; of two moved fields that end with the same name
// (after remove_prefix) the later one wins; both are counted. When `under` holds something
// else (a string, a number, an array) the event is left as it is and that is counted too:
// nothing is thrown away to make room.
#include <simdjson.h>

#include <string>
#include <vector>

#include "config/option_schema.h"
#include "daemon/core/batch.h"

namespace logship::plugins::modify {

struct NestOptions {
  std::string under;
  std::vector<std::string> fields;
  std::string remove_prefix;

  static const config::OptionSchema<NestOptions>& schema();
};

// Per stream (one per processor instance): the parser and scratch space, reused by every event.
class Nester {
 public:
  explicit Nester(const NestOptions& o) : o_(o) {}
  // Moves the matching fields of `e` under `under_key` (o.under, in the batch's arena).
  // Returns the collisions counted.
  uint64_t apply(Batch& b, Event& e, std::string_view under_key);

 private:
  bool matches(std::string_view key) const;
  std::string_view member_name(std::string_view key) const;
  bool existing_members(std::string_view object_json);

  const NestOptions& o_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::vector<char> pad_;
  std::string text_;
  std::vector<char> moved_;   // per field of the event: 1 moved, 2 moved and replaced
  std::vector<std::pair<std::string_view, std::string_view>> members_;   // name, raw value
  std::vector<std::pair<std::string_view, uint32_t>> names_;   // moved: name, field index
};

}  // namespace logship::plugins::modify
