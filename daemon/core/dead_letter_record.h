#pragma once
// One line of a dead-letter file, written by the daemon and read back by
// `logship dead-letters list|replay`:
//
//   {"output":"es","error":"rejected","reason":"status 400: ...",
//    "event":{"timestamp":"...","stream":"stdout","message":"...",<tags>,"labels":{...},<fields>},
//    "meta":{"input":"...","key":"...","file_path":"...","offset":N,"flags":F,"tags":T,"labels":L}}
//
// "event" is the event as every flat encoder writes it, for people and jq. "meta" holds what
// that form loses (the input, the stream key, the file path, the offset and flags) and how many
// of the event's keys after "message" are source tags (T) and whether a "labels" object follows
// (L labels), so the event and its source are rebuilt exactly and a replayed document is the
// one the output would have written the first time (same ECS mapping, same deterministic id).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/status.h"

namespace logship::dead_letter {

// Appends one line, ending in '\n'.
void encode(std::string& line, std::string_view output, std::string_view error,
            std::string_view reason, const Event& e, const SourceInfo& source);

struct Record {
  std::string output;
  std::string error;
  std::string reason;
  std::shared_ptr<SourceInfo> source;
  int64_t time_ns = 0;
  uint64_t offset = 0;
  Stream stream = Stream::kNone;
  uint8_t flags = 0;
  std::string message;
  struct FieldValue {
    std::string key;
    ValueType type = ValueType::kNull;
    std::string text;   // kString, kRawJson
    int64_t i = 0;
    double d = 0;
    bool b = false;
  };
  std::vector<FieldValue> fields;
};

// Reads one line (without or with its '\n'). Corrupt on anything that is not a dead-letter line
// this version wrote.
Result<Record> decode(std::string_view line);

// Adds the record's event to `batch` (whose source should equal *record.source), its strings
// copied into the batch's arena.
void add_event(const Record& record, Batch& batch);

// Same stream and same shared values: events of both can go in one batch.
bool same_source(const SourceInfo& a, const SourceInfo& b);

}  // namespace logship::dead_letter
