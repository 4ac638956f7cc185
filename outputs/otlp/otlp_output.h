#pragma once
// The `otlp` output: OTLP/HTTP logs (`POST /v1/logs`) to an OpenTelemetry Collector or any OTLP
// backend, protobuf (default) or JSON, gzip, TLS.
//
// Each delivery runs on one of max_in_flight sender threads with its own keep-alive connection,
// and is cut into requests by event count and size. Answers:
//  - 2xx: delivered. A partial success (rejected_log_records = N, error_message) dead-letters N
//    records with the server's message. OTLP does not say which records it refused, so logship
//    dead-letters the request's last N records: the dead-letter file holds exactly as many
//    records as the server refused, with its words, for inspection or replay; the count is
//    exact, the choice of records may not be (the server may have dropped others).
//  - 429/502/503/504: resent after the server's Retry-After (seconds or an HTTP date, capped at
//    retry_max) or a jittered backoff, `retries` times, then handed back to the core's retry.
//  - 413: split in halves down to one record, which is dead-lettered (too_large).
//  - 400: the request's records are dead-lettered (rejected): the server can never accept them.
//  - anything else, and network errors: the core's retry.
// Only what the server accepted (or what was dead-lettered) is acknowledged. A delivery handed
// back for retry remembers, per batch, how many records were already settled, so the core's
// retry resends only the rest (no duplicates from a retry; a request lost with its answer, e.g.
// a receiver killed mid-request, is resent and may be stored twice).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "config/option_schema.h"
#include "daemon/core/host_identity.h"
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
  std::vector<std::string> severity_fields{"level", "lvl", "loglevel", "log.level", "severity"};
  std::string body = "string";
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
  // Dead-letters the slices' records; an error if the dead-letter file could not be written.
  Status dead_letter(std::span<const Slice> slices, PermanentError why, std::string_view detail);
  // The first `n` events of each batch are settled (accepted or dead-lettered).
  uint32_t settled(const Batch* b);
  void mark_settled(std::span<const Slice> slices);
  void forget_settled(const Job& job);
  bool sleep_unless_stopping(std::chrono::milliseconds d);
  void log_problem(std::string_view what, std::string_view kv);

  const OtlpOptions o_;
  es::HostUrl url_;
  std::string target_;
  HostIdentity host_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  OutputContext* ctx_ = nullptr;
  std::string name_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable stop_cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Sender>> senders_;
  // Batches a delivery handed back for retry had partly settled: how many of their events. The
  // shared pointer keeps the batch, so its address cannot name another batch meanwhile.
  std::mutex settled_mu_;
  std::unordered_map<const Batch*, std::pair<SharedBatch, uint32_t>> settled_;
  log::RateLimit problem_log_{5, std::chrono::seconds(10)};

  std::atomic<uint64_t>* requests_ = nullptr;
  std::atomic<uint64_t>* request_bytes_ = nullptr;
  std::atomic<uint64_t>* retries_ = nullptr;
  std::atomic<uint64_t>* rejected_ = nullptr;
  std::atomic<uint64_t>* splits_ = nullptr;
};

}  // namespace logship::plugins::otlp
