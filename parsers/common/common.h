#pragma once
// What the parser processors share: the per-container label gate, typed conversion of captured
// text, failure marking and the counters every parser keeps.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/core/status.h"
#include "daemon/core/plugin_context.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"

namespace logship::parsers {

// A condition on the stream's container labels, e.g. "logship.parser=json" (label equals one
// of the |-separated values) or "logship.parser" (label present). Empty = always true.
class LabelCondition {
 public:
  // Invalid (with why) when the spec is not LABEL or LABEL=VALUE[|VALUE...].
  Status parse(std::string_view spec);
  bool matches(const SourceInfo& src) const;
  bool always() const { return key_.empty(); }

 private:
  std::string key_;
  std::vector<std::string> values_;   // empty: presence is enough
};

// Caches a per-stream decision: processors are created per stream, so the source (and its
// labels) of every batch a processor sees is the same; we still key on the pointer to be safe.
template <class T>
class PerSource {
 public:
  template <class Fn>
  const T& get(const Batch& b, Fn&& compute) {
    if (b.source_ptr().get() != src_) {
      src_ = b.source_ptr().get();
      value_ = compute(b.source());
    }
    return value_;
  }

 private:
  const SourceInfo* src_ = nullptr;
  T value_{};
};

enum class FieldType : uint8_t { kString, kInt, kDouble, kBool, kAuto };
// "string" | "int" | "double"/"float"/"number" | "bool" | "auto"; false if unknown.
bool parse_field_type(std::string_view s, FieldType* out);

// Converts captured text to a typed value. Strings are not copied: the view must already live in
// the batch. False when the text does not fit the type (the caller keeps it as a string).
bool convert_text(std::string_view text, FieldType type, Value* out);

// Finds the text a parser reads: the message when `field` is empty or "message", otherwise a
// string (or raw JSON) field of that name. False when the event has no such text.
bool source_text(const Event& e, std::string_view field, std::string_view* out);
// Removes the source the parser consumed (empties the message, or drops the field).
void clear_source(Event& e, std::string_view field);
bool is_message(std::string_view field);

// Counters and rate-limited logging of one parser instance (shared by all its per-stream copies).
struct ParserStats {
  ParserStats(std::string_view metric_prefix, const PluginContext& processor);
  std::atomic<uint64_t>* parsed;    // events whose text was parsed
  std::atomic<uint64_t>* failed;    // events kept raw because the text did not parse
  std::atomic<uint64_t>* skipped;   // events the parser did not apply to (label, no field)
  ComponentLog log;
  log::RateLimit limit;
};

// Marks an event a parser could not parse: flag plus a `parse_error` field (static text), counts
// it and logs (rate-limited) once in a while.
void mark_failure(Event& e, std::string_view reason, ParserStats& stats);

}  // namespace logship::parsers
