#pragma once
// Writes a nested JSON document from leaves given as paths, e.g. container.image.name, so that
// fields of the source (mapped once per batch) and of the event (mapped per event) can share
// objects (log.file.path beside log.level) without building a tree per event.
//
// A leaf's path is `base` and `rest` split at dots, then `key` taken whole (so a key may hold
// dots: OpenTelemetry attribute names, undotted label keys). Leaves are written in path order,
// objects opened and closed as the paths go. Two leaves with the same path: the one of lower
// rank is written (ties: the earlier). A leaf whose path is also an object's (a string `log`
// next to `log.level`): the object is written, the leaf left out, as a JSON object cannot hold
// both.
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "daemon/core/event.h"

namespace logship::plugins::doc {

struct Leaf {
  enum class Kind : uint8_t { kJson, kValue, kString };
  std::string_view base;
  std::string_view rest;
  std::string_view key;
  Kind kind = Kind::kJson;
  uint8_t rank = 0;          // lower wins a duplicate path
  uint16_t order = 0;        // then the earlier wins: std::sort is not stable
  std::string_view text;     // kJson: encoded JSON; kString: the string to encode
  const Value* value = nullptr;

  static Leaf json(std::string_view base, std::string_view key, std::string_view encoded,
                   uint8_t rank = 0) {
    Leaf l;
    l.base = base;
    l.key = key;
    l.text = encoded;
    l.rank = rank;
    return l;
  }
};

// The first segment of the leaf's path: the top-level member it belongs to.
std::string_view first_segment(const Leaf& l);

// Path order, then rank, then order: the order leaves must have when given to write_leaves().
bool leaf_less(const Leaf& a, const Leaf& b);

// Appends the sorted leaves as members of the object `out` is inside (`has_members`: whether
// it already has one), opening and closing nested objects. `stack` is scratch space kept by
// the caller so that no event allocates.
void write_leaves(std::string& out, std::span<const Leaf> sorted, bool has_members,
                  std::vector<std::string_view>* stack);

}  // namespace logship::plugins::doc
