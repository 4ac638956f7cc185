#pragma once
// Decodes an OTLP ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1) into events:
// protobuf with a hand-written wire-format reader, or OTLP/JSON with simdjson.
//
// Each LogRecord becomes one event:
//   time      time_unix_nano, else observed_time_unix_nano, else `now_ns`
//   message   a string body as is; any other body (map, array, number, bytes) as its JSON text
//   fields    the record's attributes under their own keys (strings, ints, doubles, bools;
//             maps and arrays as raw JSON; bytes as base64), then `level` (severity_text),
//             `severity_number`, `trace_id` and `span_id` (lowercase hex), `otel.scope.name`,
//             and the resource's attributes (service.name, host.name, k8s.*, ...) under their
//             own keys unless the record has an attribute of that key.
// Untrusted input: every length is checked against what is left, nesting is bounded
// (kMaxDepth), and nothing is read outside `body`. Strings are copied into the batch's arena.
#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"

namespace logship::plugins::otlp_in {

// Nesting of AnyValue maps and arrays beyond this is refused as malformed.
inline constexpr int kMaxDepth = 32;

// Appends one event per LogRecord to `batch`. Returns "" or why the body is malformed; on
// error the batch holds a partial request and must be discarded.
std::string decode_protobuf(std::string_view body, Batch& batch, int64_t now_ns);
std::string decode_json(std::string_view body, Batch& batch, int64_t now_ns,
                        simdjson::dom::parser& parser);

}  // namespace logship::plugins::otlp_in
