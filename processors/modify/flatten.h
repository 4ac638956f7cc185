#pragma once
// modify's `flatten`: an object field becomes top-level fields, one per member, named by the
// path to it (`kubernetes: {pod: {name: x}}` -> `kubernetes.pod.name: x`). Vector's flatten
// with a separator and a depth limit, or, with `keep_name: false`, Fluent Bit's nest `lift`
// (the members keep their own names, `add_prefix` before them).
//
// Collisions: a new field replaces an existing field of the same name (as `set` and `rename`
// do), and of two members that end with the same name the later one wins; both are counted.
// A field that holds no JSON object (a string, a number, an array, invalid JSON) is left as it
// is and counted. Empty objects inside the flattened one vanish, as in Vector.
#include <simdjson.h>

#include <string>
#include <vector>

#include "config/option_schema.h"
#include "daemon/core/batch.h"

namespace logship::plugins::modify {

struct FlattenOptions {
  std::vector<std::string> fields;
  std::string separator = ".";
  int64_t max_depth = 0;
  bool keep_name = true;
  std::string add_prefix;

  static const config::OptionSchema<FlattenOptions>& schema();
};

struct FlattenCounts {
  uint64_t collisions = 0;
  uint64_t not_object = 0;
};

// Per stream (one per processor instance): the parser and scratch space, reused by every event.
class Flattener {
 public:
  explicit Flattener(const FlattenOptions& o) : o_(o) {}
  // Flattens every configured field of `e` that holds an object.
  void apply(Batch& b, Event& e, FlattenCounts* counts);

 private:
  bool flatten_field(Batch& b, Event& e, std::size_t index, FlattenCounts* counts);
  bool walk_object(Batch& b, simdjson::ondemand::object obj, int depth);
  bool leaf(Batch& b, simdjson::ondemand::value v, simdjson::ondemand::json_type t);
  void merge(Event& e, std::size_t index, FlattenCounts* counts);

  const FlattenOptions& o_;
  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::vector<char> pad_;
  std::string path_;               // the name being built, member by member
  std::vector<Field> produced_;    // the new fields of the field being flattened
  std::vector<uint32_t> order_;    // produced_ sorted by name, to find collisions
  std::vector<char> dead_;         // produced_[i] was replaced by a later member of its name
};

}  // namespace logship::plugins::modify
