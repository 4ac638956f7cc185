#pragma once
#include <cstdint>
#include <string>

namespace logship {

// Where a stream has been read up to. Files use `offset`; journald keeps its cursor in `text`;
// inputs may keep identity hints (fingerprint, path) in `text` too. Opaque to the core.
struct Position {
  uint64_t offset = 0;
  std::string text;
  bool operator==(const Position&) const = default;
};

}  // namespace logship
