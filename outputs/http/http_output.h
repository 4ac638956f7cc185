#pragma once
// The `http` output: events as NDJSON (one JSON object per line, the flat logship layout of the
// file output) or one JSON array per request, to any HTTP endpoint, with headers, basic or
// bearer auth, gzip and TLS. Sending, retries, 413 splits, dead letters and per-batch progress
// are HttpBatchOutput's; which answer means what is configured per status:
// success_statuses (besides 2xx), dead_letter_statuses (the request's events are dead-lettered),
// resend_statuses (resent after Retry-After); 413 splits; anything else is retried by the core.
// A status pattern is "NNN" or a class "Nxx".
#include <map>
#include <string>
#include <vector>

#include "config/option_schema.h"
#include "outputs/common/http_batch_output.h"
#include "outputs/common/http_sender_options.h"

namespace logship::plugins::httpout {

struct HttpOptions : httpbatch::SenderOptions {
  HttpOptions() { batch_max_events = 1000; }
  std::string endpoint = "http://127.0.0.1:8080";
  std::string path = "/";
  std::string method = "POST";
  std::string format = "ndjson";
  std::string compression = "none";
  int64_t compression_level = 1;
  std::map<std::string, std::string> headers;
  std::string basic_user;
  std::string basic_password;
  std::string bearer_token;
  std::vector<std::string> success_statuses;
  std::vector<std::string> dead_letter_statuses{"400", "422"};
  std::vector<std::string> resend_statuses{"429", "502", "503", "504"};

  static const config::OptionSchema<HttpOptions>& schema();
  std::string validate() const;
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

 protected:
  std::unique_ptr<httpbatch::RequestEncoder> make_encoder() override;
  httpbatch::Verdict judge(const es::HttpResult& r, std::size_t records) override;
  std::size_t estimate(const Event& e) const override {
    return e.message.size() + 64 + e.fields.size() * 32;
  }

 private:
  const HttpOptions o_;
};

}  // namespace logship::plugins::httpout
