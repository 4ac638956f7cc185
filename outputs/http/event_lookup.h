#pragma once
// The text of a named value of an event, as the presets read labels, host, index and
// sourcetype: an event field (string, or an integer, real or bool written into `scratch`), else
// a source tag, else `stream` or `input`. Empty when none: the caller leaves the value out or
// uses its default. No allocation: the result views the event, its source or `scratch`.
#include <charconv>
#include <cstdio>
#include <string_view>

#include "daemon/core/batch.h"

namespace logship::plugins::httpout {

struct LookupScratch {
  char buf[32];
};

inline std::string_view lookup_text(const Event& e, const SourceInfo& source, std::string_view name,
                                    LookupScratch& scratch) {
  if (const Field* f = e.find(name)) {
    const Value& v = f->value;
    switch (v.type) {
      case ValueType::kString: return v.s;
      case ValueType::kInt: {
        auto r = std::to_chars(scratch.buf, scratch.buf + sizeof scratch.buf, v.i);
        return {scratch.buf, static_cast<std::size_t>(r.ptr - scratch.buf)};
      }
      case ValueType::kDouble: {
        const int n = std::snprintf(scratch.buf, sizeof scratch.buf, "%.17g", v.d);
        return {scratch.buf, static_cast<std::size_t>(n > 0 ? n : 0)};
      }
      case ValueType::kBool: return v.b ? "true" : "false";
      case ValueType::kNull:
      case ValueType::kRawJson: break;   // no single text: look further
    }
  }
  if (const Tag* t = source.find(name); t && t->type == ValueType::kString) return t->value;
  if (name == "stream") return e.stream == Stream::kNone ? std::string_view() : stream_name(e.stream);
  if (name == "input") return source.input;
  return {};
}

}  // namespace logship::plugins::httpout
