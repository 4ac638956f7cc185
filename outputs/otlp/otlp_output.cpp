#include "outputs/otlp/otlp_output.h"

#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"

namespace logship::plugins {
namespace otlp {


const config::OptionSchema<OtlpOptions>& OtlpOptions::schema() {
  using S = config::OptionSchema<OtlpOptions>;
  static const auto s = [] {
    S s;
    s.add("endpoint", &OtlpOptions::endpoint,
              "Base URL of the OTLP/HTTP receiver (http:// or https://), e.g. a Collector's "
              "http://collector:4318.")
          .add("path", &OtlpOptions::path, "Request path appended to the endpoint.")
          .add("encoding", &OtlpOptions::encoding,
               "protobuf (application/x-protobuf, what every receiver takes) or json (OTLP/JSON).")
          .add("compression", &OtlpOptions::compression, "Request body encoding.")
          .add("compression_level", &OtlpOptions::compression_level, "gzip level: 1 fastest.",
               config::in_range(1, 9))
          .add("headers", &OtlpOptions::headers,
               "Extra request headers (an API key: `Authorization: ${file:/run/secrets/otlp}`). "
               "Values are never logged.")
          .add("host_name", &OtlpOptions::host_name,
               "Resource attribute host.name; empty = the daemon's (service.host_name, else "
               "NODE_NAME, else the machine's host name).")
          .add("service_name_label", &OtlpOptions::service_name_label,
               "Container label that names service.name; without it (or the label) the compose "
               "service, else the container name.")
          .add("resource_labels", &OtlpOptions::resource_labels,
               "Globs of container labels sent as resource attributes container.label.<key>; "
               "[] sends none.")
          .add("severity_fields", &OtlpOptions::severity_fields,
               "Event fields holding the log level, in order of preference: the first present "
               "string becomes severity_text (and severity_number for the usual spellings and "
               "syslog's 0-7) and is not repeated as an attribute. [] = none.")
          .add("body", &OtlpOptions::body,
               "string: the message is the body, parsed fields are attributes. map: events with "
               "parsed fields get a map body ({message, fields...}, nested JSON as maps).");
    httpbatch::add_sender_options(s, "log records", "429/502/503/504");
    return s;
  }();
  return s;
}

Status OtlpOptions::validate() const {
  if (Result<es::HostUrl> url = es::parse_host_url(endpoint); !url.is_ok()) return url.status();
  if (path.empty() || path.front() != '/') return Status::invalid("path must start with '/'");
  if (!tls_key_file.empty() && tls_cert_file.empty()) {
    return Status::invalid("tls_key_file needs tls_cert_file");
  }
  for (const auto& [k, v] : headers) {
    if (k.empty() || k.find_first_of(":\r\n ") != std::string::npos) {
      return Status::invalid("headers: invalid header name '" + k + "'");
    }
    if (v.find_first_of("\r\n") != std::string::npos) {
      return Status::invalid("headers: a value holds a newline");
    }
  }
  return Status::ok();
}

namespace {

EncoderOptions encoder_options(const OtlpOptions& o, const HostIdentity& host) {
  EncoderOptions e;
  e.json = o.encoding == Encoding::kJson;
  e.map_body = o.body == Body::kMap;
  e.host = host;
  e.service_name_label = o.service_name_label;
  e.resource_labels = o.resource_labels;
  e.severity_fields = o.severity_fields;
  return e;
}

httpbatch::Settings settings(const OtlpOptions& o) {
  httpbatch::Settings s;
  s.component = "otlp";
  s.endpoint = o.endpoint;
  s.path = o.path;
  s.content_type = o.encoding == Encoding::kJson ? "application/json" : "application/x-protobuf";
  s.gzip = o.compression == Compression::kGzip;
  s.gzip_level = static_cast<int>(o.compression_level);
  s.headers = o.headers;
  o.apply(&s);
  return s;
}

class OtlpRequestEncoder final : public httpbatch::RequestEncoder {
 public:
  explicit OtlpRequestEncoder(EncoderOptions o) : enc_(std::move(o)) {}
  void encode(std::span<const Slice> slices, std::string& out) override { enc_.encode(slices, out); }

 private:
  Encoder enc_;
};

}  // namespace

OtlpOutput::OtlpOutput(const OtlpOptions& o) : HttpBatchOutput(settings(o)), o_(o) {}

Status OtlpOutput::start(OutputContext& ctx) {
  host_ = process_host_identity();
  if (!o_.host_name.empty()) host_.name = o_.host_name;
  return HttpBatchOutput::start(ctx);
}

std::unique_ptr<httpbatch::RequestEncoder> OtlpOutput::make_encoder() {
  return std::make_unique<OtlpRequestEncoder>(encoder_options(o_, host_));
}

httpbatch::Verdict OtlpOutput::judge(const es::HttpResult& r, std::size_t records) {
  using Kind = httpbatch::Verdict::Kind;
  httpbatch::Verdict v;
  if (r.status >= 200 && r.status < 300) {
    v.kind = Kind::kAccepted;
    int64_t rejected = 0;
    std::string message;
    const bool readable = o_.encoding == Encoding::kJson ? parse_json_partial_success(r.body, &rejected, &message)
                                                : parse_partial_success(r.body, &rejected, &message);
    if (!readable) {
      // The records were accepted (2xx); only the details of a partial success could be lost.
      log_problem("unreadable export response; taken as accepted",
                  log::kv("body_bytes", static_cast<int64_t>(r.body.size())));
    }
    if (rejected > 0) {
      log_problem("receiver rejected part of a request; dead-lettered",
                  log::kv("rejected", rejected) + log::kv("records", static_cast<int64_t>(records)) +
                      log::kv("message", message));
      v.rejected = static_cast<std::size_t>(rejected);
      v.detail = "partial success: " + std::to_string(rejected) + " of " + std::to_string(records) +
                 " records rejected: " + message;
    } else if (!message.empty()) {
      log_problem("receiver accepted the request with a warning", log::kv("message", message));
    }
    return v;
  }
  v.detail = "HTTP " + std::to_string(r.status) + ": " + std::string(httpbatch::short_body(r.body));
  switch (r.status) {
    case 413:
      v.kind = Kind::kSplit;
      return v;
    case 400:
      // The receiver can never take this request (OTLP: 400 is not retryable).
      log_problem("receiver refused the request as malformed; records dead-lettered",
                  log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
      v.kind = Kind::kDeadLetter;
      v.error = PermanentError::kRejected;
      return v;
    case 429:
    case 502:
    case 503:
    case 504:
      v.kind = Kind::kResend;
      return v;
    case 401:
    case 403:
      component_log().error("authentication or authorization failed; check the headers",
                            log::kv("status", r.status));
      v.kind = Kind::kRetry;
      return v;
    default:
      log_problem("export failed", log::kv("status", r.status) + log::kv("body", httpbatch::short_body(r.body)));
      v.kind = Kind::kRetry;
      return v;
  }
}

}  // namespace otlp

const PluginInfo& otlp_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "otlp",
      "OpenTelemetry OTLP/HTTP logs (protobuf or JSON) to a Collector or any OTLP backend.",
      &schema_of<otlp::OtlpOptions>, nullptr, nullptr, &bind_output<otlp::OtlpOptions, otlp::OtlpOutput>};
  return info;
}

}  // namespace logship::plugins
