#pragma once
// The `otlp` output: OTLP/HTTP logs (`POST /v1/logs`) to an OpenTelemetry Collector or any OTLP
// backend, protobuf (default) or JSON, gzip, TLS. The sending (threads, request cutting,
// retries, dead letters, per-batch progress) is HttpBatchOutput's; this output encodes
// ExportLogsServiceRequests and judges the answers:
//  - 2xx: delivered. A partial success (rejected_log_records = N, error_message) dead-letters N
//    records with the server's message. OTLP does not say which records it refused, so logship
//    dead-letters the request's last N records: the dead-letter file holds exactly as many
//    records as the server refused, with its words, for inspection or replay; the count is
//    exact, the choice of records may not be (the server may have dropped others).
//  - 429/502/503/504: resent after Retry-After (the OTLP/HTTP spec's retryable answers).
//  - 413: split in halves down to one record, which is dead-lettered (too_large).
//  - 400: the request's records are dead-lettered (rejected): the server can never accept them.
//  - anything else, and network errors: the core's retry.
#include <map>
#include <string>
#include <vector>

#include "config/option_schema.h"
#include "daemon/core/host_identity.h"
#include "outputs/common/http_batch_output.h"
#include "outputs/common/http_sender_options.h"
#include "outputs/otlp/otlp_encoder.h"

namespace logship::plugins::otlp {

using httpbatch::Compression;
enum class Encoding { kProtobuf, kJson };
constexpr config::EnumNames<Encoding, 2> enum_names(Encoding) {
  return {{{"protobuf", Encoding::kProtobuf}, {"json", Encoding::kJson}}};
}
enum class Body { kString, kMap };
constexpr config::EnumNames<Body, 2> enum_names(Body) {
  return {{{"string", Body::kString}, {"map", Body::kMap}}};
}

struct OtlpOptions : httpbatch::SenderOptions {
  std::string endpoint = "http://127.0.0.1:4318";
  std::string path = "/v1/logs";
  Encoding encoding = Encoding::kProtobuf;
  Compression compression = Compression::kGzip;
  int64_t compression_level = 1;
  std::map<std::string, std::string> headers;
  std::string host_name;
  std::string service_name_label;
  std::vector<std::string> resource_labels{"*"};
  std::vector<std::string> severity_fields{"level", "lvl", "loglevel", "log.level", "severity"};
  Body body = Body::kString;

  static const config::OptionSchema<OtlpOptions>& schema();
  Status validate() const;
};

class OtlpOutput final : public httpbatch::HttpBatchOutput {
 public:
  explicit OtlpOutput(const OtlpOptions& o);
  Status start(OutputContext& ctx) override;

 protected:
  std::unique_ptr<httpbatch::RequestEncoder> make_encoder() override;
  httpbatch::Verdict judge(const es::HttpResult& r, std::size_t records) override;

 private:
  const OtlpOptions o_;
  HostIdentity host_;
};

}  // namespace logship::plugins::otlp
