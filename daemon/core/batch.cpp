#include "daemon/core/batch.h"

#include <cstring>
#include <new>

#include "daemon/core/clock.h"

namespace logship {

std::string_view stream_name(Stream s) {
  switch (s) {
    case Stream::kStdout: return "stdout";
    case Stream::kStderr: return "stderr";
    case Stream::kNone: break;
  }
  return "";
}

Batch::Batch(std::shared_ptr<const SourceInfo> source, std::size_t expected_events,
             std::size_t expected_bytes)
    : source_(std::move(source)),
      arena_(expected_bytes + expected_events * (sizeof(Event) + 2 * sizeof(Field))),
      events_(&arena_),
      created_ns_(wall_now_ns()) {
  events_.reserve(expected_events);
}

std::string_view Batch::copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = allocate(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

Event& Batch::add_copy(const Event& src) {
  Event& e = add_event();
  e.time_ns = src.time_ns;
  e.offset = src.offset;
  e.stream = src.stream;
  e.flags = src.flags;
  e.message = copy(src.message);
  e.fields.reserve(src.fields.size());
  for (const Field& f : src.fields) {
    Value v = f.value;
    if (v.type == ValueType::kString || v.type == ValueType::kRawJson) v.s = copy(v.s);
    e.fields.push_back(Field{copy(f.key), v});
  }
  return e;
}

}  // namespace logship
