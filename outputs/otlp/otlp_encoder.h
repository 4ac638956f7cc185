#pragma once
// Encodes events as an OTLP ExportLogsServiceRequest (opentelemetry/proto/collector/logs/v1),
// in protobuf (the default on the wire) or OTLP/JSON.
//
// Per source (one batch is one source): a ResourceLogs whose resource attributes are built once
// from the source's tags and labels with OpenTelemetry semantic conventions (host.name,
// service.name, container.*, k8s.*), one ScopeLogs with scope `logship`, then a LogRecord per
// event: time, observed time, severity from a parsed level field, the message as string body,
// the event's fields and its stream (log.iostream) as attributes.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"

namespace logship::plugins::otlp {

struct EncoderOptions {
  bool json = false;
  std::string host_name;                      // resource host.name; empty = left out
  std::string service_name_label;             // label naming service.name, before the container name
  std::vector<std::string> resource_labels;   // globs: labels kept as container.label.<key>
  std::string severity_field = "level";       // event field holding the level; empty = none
};

// A run of one batch's events: what one request carries is a list of these.
struct Slice {
  const Batch* batch = nullptr;
  uint32_t begin = 0;
  uint32_t end = 0;
};

// OTLP SeverityNumber for a level name (trace, debug, info, notice, warn, error, crit, fatal and
// the usual spellings, syslog numbers 0-7); 0 (unspecified) when unknown.
int severity_number(std::string_view level);

class Encoder {
 public:
  explicit Encoder(EncoderOptions o);
  // The whole request body for `slices` into `out` (cleared first).
  void encode(std::span<const Slice> slices, int64_t observed_ns, std::string& out);

 private:
  void protobuf(std::span<const Slice> slices, int64_t observed_ns, std::string& out);
  void json(std::span<const Slice> slices, int64_t observed_ns, std::string& out);
  // The resource attributes of a source, as (key, value) pairs; cached for the last source.
  const std::vector<std::pair<std::string, std::string>>& resource(const SourceInfo& s);

  const EncoderOptions o_;
  const SourceInfo* cached_source_ = nullptr;
  std::vector<std::pair<std::string, std::string>> cached_resource_;
};

// Reads an ExportLogsServiceResponse (protobuf): its partial_success, if any. False if the body
// is not a valid response.
bool parse_partial_success(std::string_view body, int64_t* rejected, std::string* message);

}  // namespace logship::plugins::otlp
