#pragma once
// The `http` output: events as NDJSON (one JSON object per line, the flat logship layout of the
// file output) or one JSON array per request, to any HTTP endpoint, with headers, basic or
// bearer auth, gzip and TLS. Sending, retries, 413 splits, dead letters and per-batch progress
// are HttpBatchOutput's; which answer means what is configured per status:
// success_statuses (besides 2xx), dead_letter_statuses (the request's events are dead-lettered),
// resend_statuses (resent after Retry-After); 413 splits; anything else is retried by the core.
// A status pattern is "NNN" or a class "Nxx".
//
// Presets make it speak a receiver's own API (the options prefixed hec_ or loki_):
//  - splunk_hec: Splunk HTTP Event Collector events (splunk_hec_encoder.h), `Authorization:
//    Splunk <token>`, a request channel, HEC's status policy (splunk_hec_status.h) and, when the
//    token has indexer acknowledgement on, delivery only once an ack poll confirms it
//    (splunk_hec_ack.h);
//  - loki: Loki's push API, JSON or protobuf+snappy (loki_encoder.h), labels from an
//    allow-list of fields; the status lists above apply (Loki answers 400 for what it can never
//    take, 429 when rate-limited).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/enum_option.h"
#include "config/option_schema.h"
#include "daemon/core/host_identity.h"
#include "outputs/common/http_batch_output.h"
#include "outputs/common/http_sender_options.h"
#include "outputs/http/loki_encoder.h"
#include "outputs/http/splunk_hec_encoder.h"

namespace logship::plugins::httpout {

enum class BodyFormat { kNdjson, kJsonArray };
constexpr config::EnumNames<BodyFormat, 2> enum_names(BodyFormat) {
  return {{{"ndjson", BodyFormat::kNdjson}, {"json_array", BodyFormat::kJsonArray}}};
}
using httpbatch::Compression;
enum class Preset { kNone, kSplunkHec, kLoki };
constexpr config::EnumNames<Preset, 3> enum_names(Preset) {
  return {{{"none", Preset::kNone}, {"splunk_hec", Preset::kSplunkHec}, {"loki", Preset::kLoki}}};
}
enum class LokiEncoding { kProtobuf, kJson };
constexpr config::EnumNames<LokiEncoding, 2> enum_names(LokiEncoding) {
  return {{{"protobuf", LokiEncoding::kProtobuf}, {"json", LokiEncoding::kJson}}};
}
enum class HttpMethod { kPost, kPut };
constexpr config::EnumNames<HttpMethod, 2> enum_names(HttpMethod) {
  return {{{"POST", HttpMethod::kPost}, {"PUT", HttpMethod::kPut}}};
}
enum class LokiLine { kMessage, kJson };
constexpr config::EnumNames<LokiLine, 2> enum_names(LokiLine) {
  return {{{"message", LokiLine::kMessage}, {"json", LokiLine::kJson}}};
}

struct HttpOptions : httpbatch::SenderOptions {
  HttpOptions() { batch_max_events = 1000; }
  std::string endpoint = "http://127.0.0.1:8080";
  std::string path = "/";
  HttpMethod method = HttpMethod::kPost;
  BodyFormat format = BodyFormat::kNdjson;
  Compression compression = Compression::kNone;
  int64_t compression_level = 1;
  std::map<std::string, std::string> headers;
  std::string basic_user;
  std::string basic_password;
  std::string bearer_token;
  std::vector<std::string> success_statuses;
  std::vector<std::string> dead_letter_statuses{"400", "422"};
  std::vector<std::string> resend_statuses{"429", "502", "503", "504"};

  Preset preset = Preset::kNone;
  // splunk_hec
  std::string hec_token;
  std::string hec_channel;
  std::string hec_host;
  std::string hec_host_field = "host";
  std::string hec_sourcetype = "logship";
  std::string hec_sourcetype_field = "sourcetype";
  std::string hec_index;
  std::string hec_index_field = "index";
  std::string hec_ack_path = "/services/collector/ack";
  config::Millis hec_ack_interval{1000};
  config::Millis hec_ack_timeout{60000};
  // loki
  LokiEncoding loki_encoding = LokiEncoding::kProtobuf;
  std::vector<std::string> loki_labels{"input", "stream"};
  std::map<std::string, std::string> loki_static_labels{{"job", "logship"}};
  LokiLine loki_line = LokiLine::kMessage;

  // The request path: `path`, or the preset's endpoint when `path` is left at "/".
  std::string request_path() const;

  static const config::OptionSchema<HttpOptions>& schema();
  Status validate() const;
};

// True when `status` matches one of the patterns ("404", "4xx").
bool status_matches(const std::vector<std::string>& patterns, int status);

// NDJSON or a JSON array of the events in the flat logship layout; the source's tags and labels
// are encoded once per source.
class JsonLinesEncoder final : public httpbatch::RequestEncoder {
 public:
  explicit JsonLinesEncoder(bool array) : array_(array) {}
  void encode(std::span<const httpbatch::Slice> slices, std::string& out) override;

 private:
  const bool array_;
  std::shared_ptr<const SourceInfo> source_;   // held so its address cannot be reused
  std::string encoded_source_;
};

class HttpOutput final : public httpbatch::HttpBatchOutput {
 public:
  explicit HttpOutput(const HttpOptions& o);
  HttpOutput(const HttpOptions& o, std::string hec_channel);
  ~HttpOutput() override;
  Status start(OutputContext& ctx) override;
  void stop() override;

 protected:
  std::unique_ptr<httpbatch::RequestEncoder> make_encoder() override;
  httpbatch::Verdict judge(const es::HttpResult& r, std::size_t records) override;
  std::size_t estimate(const Event& e) const override {
    return e.message.size() + 64 + e.fields.size() * 32;
  }

 private:
  httpbatch::Verdict judge_generic(const es::HttpResult& r);
  httpbatch::Verdict judge_splunk_hec(const es::HttpResult& r);
  // Polls HEC until `ack_id` is indexed: ok once it is; an error past the timeout.
  Status await_ack(uint64_t ack_id);
  es::HttpConnection* take_ack_connection();
  void return_ack_connection(es::HttpConnection* c);

  const HttpOptions o_;
  std::string hec_channel_;
  HostIdentity host_;
  // Connections for ack polls, one per sender polling at a time; stop() aborts them all.
  std::mutex ack_mu_;
  bool ack_stopping_ = false;
  std::vector<std::unique_ptr<es::HttpConnection>> ack_connections_;
  std::vector<es::HttpConnection*> idle_ack_connections_;
  std::atomic<uint64_t>* acks_confirmed_ = nullptr;
  std::atomic<uint64_t>* ack_timeouts_ = nullptr;
};

}  // namespace logship::plugins::httpout
