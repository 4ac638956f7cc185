#pragma once
// Event and Field: plain views into the owning Batch's arena; an event has no heap of its own.
#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace logship {

enum class Stream : uint8_t { kNone, kStdout, kStderr };
std::string_view stream_name(Stream s);

enum class ValueType : uint8_t { kString, kInt, kDouble, kBool, kNull, kRawJson };

// A typed value. Strings and raw JSON live in the batch arena (or in static storage).
struct Value {
  ValueType type = ValueType::kNull;
  union {
    int64_t i;
    double d;
    bool b;
  };
  std::string_view s;

  Value() : i(0) {}
  static Value string(std::string_view v) { Value x; x.type = ValueType::kString; x.s = v; return x; }
  static Value raw_json(std::string_view v) { Value x; x.type = ValueType::kRawJson; x.s = v; return x; }
  static Value integer(int64_t v) { Value x; x.type = ValueType::kInt; x.i = v; return x; }
  static Value real(double v) { Value x; x.type = ValueType::kDouble; x.d = v; return x; }
  static Value boolean(bool v) { Value x; x.type = ValueType::kBool; x.b = v; return x; }
};

struct Field {
  std::string_view key;
  Value value;
};

enum EventFlags : uint8_t {
  kEventParseFailed = 1,   // a parser could not parse the message; kept raw
  kEventTruncated = 2,     // a size cap cut the message
  kEventMalformed = 4,     // the source line was malformed and passed on raw
};

struct Event {
  explicit Event(std::pmr::memory_resource* mr) : fields(mr) {}

  int64_t time_ns = 0;
  uint64_t offset = 0;   // where the event starts in its source: deterministic ids, debugging
  Stream stream = Stream::kNone;
  uint8_t flags = 0;
  std::string_view message;
  std::pmr::vector<Field> fields;

  const Field* find(std::string_view key) const {
    for (const Field& f : fields) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  // Replaces an existing field of that key or appends one.
  void set(std::string_view key, Value v) {
    for (Field& f : fields) {
      if (f.key == key) { f.value = v; return; }
    }
    fields.push_back(Field{key, v});
  }
};

}  // namespace logship
