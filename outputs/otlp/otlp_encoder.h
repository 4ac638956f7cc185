#pragma once
// Encodes events as an OTLP ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1),
// in protobuf (the default on the wire) or OTLP/JSON.
//
// Per source (one batch is one source; consecutive slices of one source share it): a
// ResourceLogs whose resource attributes are built and encoded once per source with
// OpenTelemetry semantic conventions (host.name, service.name, container.*, k8s.*), one ScopeLogs
// with scope `logship`, then a LogRecord per event: time (the event's), observed time (when
// logship read it), severity from a parsed level field, trace/span ids from parsed ids, the
// message as a string body (or, with `body: map`, the message and the parsed fields as a map),
// the event's other fields and its stream (log.iostream) as attributes. Nested JSON values that
// a parser kept as raw text become OTLP maps and arrays.
#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/host_identity.h"
#include "outputs/common/http_batch_output.h"

namespace logship::plugins::otlp {

struct EncoderOptions {
  bool json = false;
  bool map_body = false;                      // body: map
  HostIdentity host;                          // host.name, host.id, k8s.node.name for pods
  std::string service_name_label;             // label naming service.name, before the container name
  std::vector<std::string> resource_labels;   // globs: labels kept as container.label.<key>
  // Event fields holding the level, in order of preference; the first present string is used.
  std::vector<std::string> severity_fields = {"level", "lvl", "loglevel", "log.level", "severity"};
};

// A run of one batch's events: what one request carries is a list of these.
using Slice = httpbatch::Slice;

// OTLP SeverityNumber for a level name (trace, debug, info, notice, warn, error, crit, fatal and
// the usual spellings, syslog numbers 0-7); 0 (unspecified) when unknown.
int severity_number(std::string_view level);

class Encoder {
 public:
  explicit Encoder(EncoderOptions o);
  // The whole request body for `slices` into `out` (cleared first).
  void encode(std::span<const Slice> slices, std::string& out);

  // The resource attributes of a source, in order (for tests and the JSON encoding).
  std::vector<std::pair<std::string, std::string>> resource_attributes(const SourceInfo& s) const;

 private:
  // A source's resource, encoded once: the Resource message's bytes (protobuf) or its
  // {"attributes":[...]} object (JSON); the log.file.path attribute likewise.
  struct Cached {
    std::shared_ptr<const SourceInfo> source;   // held so its address cannot be reused
    std::string resource;
    std::string file_path_attribute;
  };
  const Cached& cached(const Batch& b);
  void protobuf(std::span<const Slice> slices, std::string& out);
  void json(std::span<const Slice> slices, std::string& out);
  void protobuf_record(std::string& out, const Event& e, int64_t observed_ns, const Cached& c);
  void json_record(std::string& out, const Event& e, int64_t observed_ns, const Cached& c);
  // Parses raw JSON text with the reusable parser; false if it is not valid JSON.
  bool parse_raw(std::string_view text, simdjson::dom::element* out);
  void proto_value(std::string& out, uint32_t field, const Value& v);
  void json_value(std::string& out, const Value& v);

  const EncoderOptions o_;
  Cached cache_;
  simdjson::dom::parser parser_;
  std::vector<char> padded_;   // raw JSON copied here: arena strings have no simdjson padding
  std::string scratch_;        // a string with its invalid UTF-8 replaced
};

// Reads an ExportLogsServiceResponse (protobuf): its partial_success, if any. False if the body
// is not a valid response.
bool parse_partial_success(std::string_view body, int64_t* rejected, std::string* message);
// The same for OTLP/JSON: {"partialSuccess":{"rejectedLogRecords":"N","errorMessage":"..."}}.
bool parse_json_partial_success(std::string_view body, int64_t* rejected, std::string* message);

}  // namespace logship::plugins::otlp
