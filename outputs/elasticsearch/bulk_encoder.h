#pragma once
// Encodes events as `_bulk` NDJSON: one action line and one source line per event, each ending in
// '\n'. The index name comes from a template of source tags, event fields and the event's UTC
// date; the optional document id is deterministic (source key + event offset), so a resend of
// the same event addresses the same document.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/json_writer.h"

namespace logship::plugins::es {

// `{name}` takes a source tag, a string event field, `input` or `stream`; `%Y %m %d %H` (any
// strftime conversion) the event's UTC time. Substituted values are lowercased and characters
// an index name may not hold become '_'. A missing value renders as "unknown".
class IndexTemplate {
 public:
  explicit IndexTemplate(std::string_view text);
  // Appends the index name for `e` to *out.
  void render(const Event& e, const SourceInfo& source, std::string* out) const;
  bool has_time() const { return has_time_; }
  bool has_event_fields() const { return has_fields_; }
  // True when some `{name}` part is not a tag of `source` (nor `input`): then the name can
  // change from event to event.
  bool varies_per_event(const SourceInfo& source) const;

 private:
  struct Part {
    enum Kind { kLiteral, kField, kTime } kind;
    std::string text;
  };
  std::vector<Part> parts_;
  bool has_time_ = false;
  bool has_fields_ = false;
};

// Appends a value made safe for an index name: lowercase, no \ / * ? " < > | , # : or space.
void append_index_safe(std::string* out, std::string_view v);

enum class BulkAction { kIndex, kCreate };

struct BulkEncoderOptions {
  std::string index = "logship-%Y.%m.%d";
  BulkAction action = BulkAction::kIndex;
  bool deterministic_ids = false;
};

class BulkEncoder {
 public:
  explicit BulkEncoder(BulkEncoderOptions o);
  // Call before the events of each batch: the id prefix and the index cache depend on the source.
  void begin_source(const SourceInfo& source);
  // Appends the action line and source line of `e`.
  void append(std::string& out, const Event& e, const SourceInfo& source);
  BulkAction action() const { return o_.action; }
  bool deterministic_ids() const { return o_.deterministic_ids; }

  // 16 hex digits of a 64-bit FNV-1a hash of the source key, '-', 16 hex digits of the offset.
  static void append_id(std::string& out, uint64_t source_hash, uint64_t offset);
  static uint64_t hash_key(std::string_view key);

 private:
  const BulkEncoderOptions o_;
  std::string encoded_source_;              // tags and labels of the current source, as JSON
  const SourceInfo* encoded_for_ = nullptr;
  const IndexTemplate template_;
  const json::EventKeys keys_;
  uint64_t source_hash_ = 0;
  // The index name only changes with fields or the time's second: cache it otherwise.
  std::string index_;
  int64_t index_second_ = INT64_MIN;
  bool index_valid_ = false;
  bool per_event_ = false;
};

}  // namespace logship::plugins::es
