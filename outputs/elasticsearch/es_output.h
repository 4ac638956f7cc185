#pragma once
// The `elasticsearch` output: `_bulk` to Elasticsearch 8 / OpenSearch 2 with per-item handling.
//
// Every delivery runs on one of max_in_flight sender threads, each with its own keep-alive
// connection. A delivery is encoded once; requests are cut from it by bytes and count. Items the
// node rejects with 429/5xx are resent alone with backoff, up to a bounded number of rounds;
// past that the whole delivery goes back to the core as retry, so nothing is ever dropped
// (deterministic ids turn the resends of already indexed items into harmless 409s).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/enum_option.h"
#include "config/option_schema.h"
#include "daemon/core/backoff.h"
#include "daemon/core/plugin_api.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "outputs/common/document_options.h"
#include "outputs/elasticsearch/aws_credentials.h"
#include "outputs/elasticsearch/bulk_encoder.h"
#include "outputs/elasticsearch/bulk_response.h"
#include "outputs/elasticsearch/http_client.h"

namespace logship::plugins::es {

// The bulk action: index (create or replace), create, or create into a data stream.
enum class EsMode { kIndex, kCreate, kDataStream };
constexpr config::EnumNames<EsMode, 3> enum_names(EsMode) {
  return {{{"index", EsMode::kIndex},
           {"create", EsMode::kCreate},
           {"data_stream", EsMode::kDataStream}}};
}
enum class EsCompression { kGzip, kNone };
constexpr config::EnumNames<EsCompression, 2> enum_names(EsCompression) {
  return {{{"gzip", EsCompression::kGzip}, {"none", EsCompression::kNone}}};
}

struct EsOptions : doc::DocumentOptions {
  EsOptions() : DocumentOptions("ecs") {}

  std::vector<std::string> hosts{"http://127.0.0.1:9200"};
  std::string index = "logship-%Y.%m.%d";
  EsMode mode = EsMode::kIndex;
  bool deterministic_ids = false;
  std::string pipeline;
  int64_t max_in_flight = 2;
  config::ByteSize bulk_max_bytes{5u << 20};
  int64_t bulk_max_events = 5000;
  EsCompression compression = EsCompression::kGzip;
  int64_t compression_level = 1;
  std::string username;
  std::string password;
  std::string api_key;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls_verify = true;
  config::Millis timeout{30000};
  config::Millis connect_timeout{5000};
  int64_t item_retries = 5;
  config::Millis item_retry_initial{100};
  config::Millis item_retry_max{5000};
  bool index_template = false;
  std::string index_template_name = "logship";
  std::string ilm_policy;
  std::string proxy;
  std::string proxy_credentials_file;
  AwsSigV4Options aws_sigv4;

  static const config::OptionSchema<EsOptions>& schema();
  Status validate() const;
};

class EsOutput final : public Output {
 public:
  explicit EsOutput(const EsOptions& o);
  ~EsOutput() override;

  Status start(OutputContext& ctx) override;
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override;
  void stop() override;
  int max_in_flight() const override { return static_cast<int>(o_.max_in_flight); }

 private:
  struct Job {
    std::vector<SharedBatch> batches;
    DeliverDone done;
  };
  struct Item {
    uint32_t begin;   // the item's two lines in Sender::encoded
    uint32_t end;
    const Event* event;
    const SourceInfo* source;
  };
  struct Sender {
    Sender(const EsOutput& out);
    BulkEncoder encoder;
    HttpConnection conn;
    Gzip gzip;
    BulkResponseParser parser;
    BulkResponse response;
    std::string encoded;
    std::vector<Item> items;
    std::string body;
    Backoff item_backoff;   // between rounds of resending rejected items
    std::thread thread;
  };
  // Outcome of one request: done, or the whole delivery must be retried by the core.
  struct RequestResult {
    bool whole_retry = false;
    std::string reason;
  };

  // Chooses each node's proxy (option, environment, NO_PROXY) and reads its credentials.
  Status set_up_proxies();
  void sender_loop(Sender& s);
  DeliveryResult run_job(Sender& s, const Job& job);
  RequestResult send_items(Sender& s, std::span<const uint32_t> idx, std::vector<uint32_t>* failed,
                           std::string* fail_reason);
  HttpResult post(Sender& s, std::string_view ndjson);
  // PUTs the index template once per output (index_template: true). Unavailable (with why)
  // until a node took it; the delivery is retried and tries again.
  Status ensure_index_template(Sender& s);
  // aws_sigv4: signs `req` as it will be sent to `h` (body hash given); an error when no
  // credentials are to be had.
  Status sign(boost::beast::http::request<boost::beast::http::string_body>& req, const HostUrl& h,
              const std::string& payload_sha256);
  bool sleep_unless_stopping(std::chrono::milliseconds d);
  void log_problem(std::string_view what, std::string_view kv);

  const EsOptions o_;
  const bool create_;
  const bool gzip_;
  std::vector<HostUrl> hosts_;
  std::string target_;        // "/_bulk?filter_path=..." (after each host's prefix)
  std::string authorization_; // never logged
  std::unique_ptr<AwsCredentialsProvider> aws_;   // aws_sigv4.region set
  std::unique_ptr<boost::asio::ssl::context> tls_;
  OutputContext* ctx_ = nullptr;
  std::string name_;
  std::atomic<std::size_t> preferred_host_{0};
  HostIdentity host_;         // resolved by the daemon; copied once in start()
  std::mutex template_mu_;
  bool template_installed_ = false;   // guarded by template_mu_

  std::mutex mu_;
  std::condition_variable cv_;        // jobs for idle senders
  std::condition_variable stop_cv_;   // wakes senders sleeping between retry rounds
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Sender>> senders_;

  ComponentLog log_{PluginContext{PluginKind::kOutput, "", "elasticsearch"}};   // named at start
  log::RateLimit problem_log_{5, std::chrono::seconds(10)};
  std::atomic<uint64_t>* requests_ = nullptr;
  std::atomic<uint64_t>* request_bytes_ = nullptr;
  std::atomic<uint64_t>* item_retries_ = nullptr;
  std::atomic<uint64_t>* duplicates_ = nullptr;
  std::atomic<uint64_t>* splits_ = nullptr;
  std::atomic<uint64_t>* failovers_ = nullptr;
};

}  // namespace logship::plugins::es
