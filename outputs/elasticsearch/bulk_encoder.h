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
#include "daemon/core/field_template.h"
#include "daemon/core/host_identity.h"
#include "outputs/common/document_encoder.h"

namespace logship::plugins::es {

// Appends a value made safe for an index name: lowercase, no \ / * ? " < > | , # : or space.
void append_index_safe(std::string* out, std::string_view v);

// Index names (daemon/core/field_template.h syntax), substituted values lowercased and made
// index-safe. A missing value renders as "unknown".
class IndexTemplate : public FieldTemplate {
 public:
  explicit IndexTemplate(std::string_view text) : FieldTemplate(text, append_index_safe) {}
};

enum class BulkAction { kIndex, kCreate };

struct BulkEncoderOptions {
  std::string index = "logship-%Y.%m.%d";
  BulkAction action = BulkAction::kIndex;
  bool deterministic_ids = false;
};

class BulkEncoder {
 public:
  // `document`: the source line's field schema (the logship layout here writes @timestamp, not
  // timestamp); `host`: the host.name/host.id of the ecs and otel schemas.
  explicit BulkEncoder(BulkEncoderOptions o,
                       const doc::DocumentOptions& document = doc::DocumentOptions("logship"),
                       const HostIdentity& host = {});
  // Call before the events of each batch: the id prefix and the index cache depend on the source.
  void begin_source(const SourceInfo& source);
  // Appends the action line and source line of `e`.
  void append(std::string& out, const Event& e, const SourceInfo& source);
  BulkAction action() const { return o_.action; }
  bool deterministic_ids() const { return o_.deterministic_ids; }

  // 16 hex digits of a 64-bit FNV-1a hash of the source key, '-', 16 hex digits of the offset.
  // "<source key hash>-<offset>-<content hash>", 16+16+8 hex digits. The content hash (event
  // time and message) tells apart two files that share a key and offsets: an inode reused after
  // a deletion, or a file restarted by copytruncate. Without it their events would get the old
  // ids, and in create mode the 409s would count them as delivered: silently lost.
  static void append_id(std::string& out, uint64_t source_hash, const Event& e);
  static uint64_t hash_key(std::string_view key);
  static uint32_t hash_content(int64_t time_ns, std::string_view message);

 private:
  const BulkEncoderOptions o_;
  doc::DocumentEncoder document_;
  const SourceInfo* encoded_for_ = nullptr;
  const IndexTemplate template_;
  uint64_t source_hash_ = 0;
  // The index name only changes with fields or the time's second: cache it otherwise.
  std::string index_;
  int64_t index_second_ = INT64_MIN;
  bool index_valid_ = false;
  bool per_event_ = false;
};

}  // namespace logship::plugins::es
