#pragma once
// The `otlp` output: OTLP/HTTP logs (`POST /v1/logs`) to an OpenTelemetry Collector or any OTLP
// backend, protobuf (default) or JSON, gzip, TLS.
//
// Each delivery runs on one of max_in_flight sender threads with its own keep-alive connection,
// and is cut into requests by event count and size. Answers: 2xx delivered (a partial success's
// rejected records are counted and logged with the server's message: OTLP does not say which
// records it refused, so there is nothing to resend or dead-letter); 429/502/503/504 resent after
// the server's Retry-After (or a backoff), then handed back to the core's retry; 413 split in
// halves down to one event, which is dead-lettered; 400 dead-letters the request's events (the
// server can never accept them); anything else, and network errors, retry. So nothing is
// dropped without a record of it, and only what the server accepted is acked.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "config/option_schema.h"
#include "daemon/core/plugin_api.h"
#include "daemon/runtime/log.h"
#include "outputs/elasticsearch/http_client.h"
#include "outputs/otlp/otlp_encoder.h"

namespace logship::plugins::otlp {

struct OtlpOptions {
  std::string endpoint = "http://127.0.0.1:4318";
  std::string path = "/v1/logs";
  std::string encoding = "protobuf";
  std::string compression = "gzip";
  int64_t compression_level = 1;
  std::map<std::string, std::string> headers;
  std::string host_name;
  std::string service_name_label;
  std::vector<std::string> resource_labels{"*"};
  std::string severity_field = "level";
  int64_t max_in_flight = 2;
  int64_t batch_max_events = 2000;
  config::ByteSize batch_max_bytes{4u << 20};
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_verify = true;
  config::Millis timeout{30000};
  config::Millis connect_timeout{5000};
  int64_t retries = 5;
  config::Millis retry_initial{200};
  config::Millis retry_max{30000};

  static const config::OptionSchema<OtlpOptions>& schema();
  std::string validate() const;
};

class OtlpOutput final : public Output {
 public:
  explicit OtlpOutput(const OtlpOptions& o);
  ~OtlpOutput() override;
  Status start(OutputContext& ctx) override;
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override;
  void stop() override;
  int max_in_flight() const override { return static_cast<int>(o_.max_in_flight); }

 private:
  struct Job {
    std::vector<SharedBatch> batches;
    DeliverDone done;
  };
  struct Sender {
    explicit Sender(const OtlpOutput& out);
    Encoder encoder;
    es::HttpConnection conn;
    es::Gzip gzip;
    std::string body;
    std::mt19937_64 rng;
    std::thread thread;
  };
  // What became of one request: delivered (or dead-lettered), or the delivery must be retried.
  struct Sent {
    bool retry = false;
    std::string reason;
  };

  void sender_loop(Sender& s);
  DeliveryResult run_job(Sender& s, const Job& job);
  Sent send_slices(Sender& s, std::span<const Slice> slices);
  es::HttpResult post(Sender& s, std::string_view payload);
  void dead_letter_all(std::span<const Slice> slices, const std::string& reason);
  bool sleep_unless_stopping(std::chrono::milliseconds d);
  void log_problem(std::string_view what, std::string_view kv);

  const OtlpOptions o_;
  es::HostUrl url_;
  std::string target_;
  std::string host_name_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  OutputContext* ctx_ = nullptr;
  std::string name_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable stop_cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Sender>> senders_;
  log::RateLimit problem_log_{5, std::chrono::seconds(10)};

  std::atomic<uint64_t>* requests_ = nullptr;
  std::atomic<uint64_t>* request_bytes_ = nullptr;
  std::atomic<uint64_t>* retries_ = nullptr;
  std::atomic<uint64_t>* rejected_ = nullptr;
  std::atomic<uint64_t>* splits_ = nullptr;
};

}  // namespace logship::plugins::otlp
