#pragma once
// What the HTTP outputs that send events in request bodies (otlp, http) share: each delivery
// runs on one of max_in_flight sender threads with its own keep-alive connection and is cut
// into requests by event count and size; a subclass encodes a request and judges its answer:
//  - accepted (optionally with the last N records refused: they are dead-lettered),
//  - dead-letter the request's records (a 400: the server can never take them),
//  - split (413): halves down to one record, which is dead-lettered as too large,
//  - resend (429/503...): after the server's Retry-After (seconds or an HTTP date, at most
//    retry_max) or the jittered
//    backoff of daemon/core/backoff.h, `retries` times, then the core's retry,
//  - retry: the core's retry (an outage, 401, anything unexpected).
// Only accepted or dead-lettered records are acknowledged. A delivery handed back for retry
// remembers, per batch, how many records were settled, so the core's retry resends only the
// rest (a request lost together with its answer is resent and may be stored twice).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "daemon/core/backoff.h"
#include "daemon/core/plugin_api.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "outputs/elasticsearch/http_client.h"

namespace logship::plugins::httpbatch {

// A run of one batch's events: what one request carries is a list of these.
struct Slice {
  const Batch* batch = nullptr;
  uint32_t begin = 0;
  uint32_t end = 0;
};

class RequestEncoder {
 public:
  virtual ~RequestEncoder() = default;
  // The whole request body for `slices` into `out` (cleared first).
  virtual void encode(std::span<const Slice> slices, std::string& out) = 0;
};

struct Settings {
  std::string component;        // log component and metric prefix: logship_<component>_...
  std::string endpoint;         // http(s)://host[:port][/prefix]
  std::string path;             // appended to the endpoint's prefix
  bool put = false;              // the request method: PUT, else POST
  std::string content_type;
  bool gzip = true;
  int gzip_level = 1;
  std::map<std::string, std::string> headers;   // values never logged
  int64_t max_in_flight = 2;
  int64_t batch_max_events = 2000;
  uint64_t batch_max_bytes = 4u << 20;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool tls_verify = true;
  std::chrono::milliseconds timeout{30000}, connect_timeout{5000};
  int64_t retries = 5;
  std::chrono::milliseconds retry_initial{200}, retry_max{30000};
};

// What an answer means for a request's records.
struct Verdict {
  enum class Kind { kAccepted, kDeadLetter, kSplit, kResend, kRetry };
  Kind kind = Kind::kRetry;
  std::size_t rejected = 0;   // kAccepted: the request's last `rejected` records are dead-lettered
  PermanentError error = PermanentError::kRejected;   // kDeadLetter
  // kDeadLetter: only this record of the request (from 0) is dead-lettered; the records before
  // and after it are sent again, each part as a request of its own. Unset: all of them.
  std::optional<std::size_t> only_record;
  std::string detail;         // the dead-letter reason, or why the delivery is retried
};

// The first 300 bytes of a response body, for logs and reasons.
std::string_view short_body(std::string_view b);

class HttpBatchOutput : public Output {
 public:
  explicit HttpBatchOutput(Settings s);
  ~HttpBatchOutput() override;
  Status start(OutputContext& ctx) override;
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override;
  void stop() override;
  int max_in_flight() const override { return static_cast<int>(s_.max_in_flight); }

 protected:
  // One per sender thread, made in start().
  virtual std::unique_ptr<RequestEncoder> make_encoder() = 0;
  // `records`: how many the request carried. Called on the sender's thread.
  virtual Verdict judge(const es::HttpResult& r, std::size_t records) = 0;
  // Rough encoded size of an event, to cut requests before encoding them.
  virtual std::size_t estimate(const Event& e) const {
    return e.message.size() + 48 + e.fields.size() * 32;
  }
  // Rate-limited warning with the output's name.
  void log_problem(std::string_view what, std::string_view kv);
  const std::string& name() const { return name_; }
  // Its lines carry ` output="name"` (named at start).
  const ComponentLog& component_log() const { return log_; }
  // For a subclass that sends requests of its own from judge() (a poll), to the same server.
  boost::asio::ssl::context* tls_context() const { return tls_.get(); }
  const es::HostUrl& url() const { return url_; }
  const Settings& sender_settings() const { return s_; }
  // Sleeps `d` unless stop() comes first; false if it did.
  bool sleep_unless_stopping(std::chrono::milliseconds d);

 private:
  struct Job {
    std::vector<SharedBatch> batches;
    DeliverDone done;
  };
  struct Sender {
    Sender(const HttpBatchOutput& out, std::unique_ptr<RequestEncoder> enc);
    std::unique_ptr<RequestEncoder> encoder;
    es::HttpConnection conn;
    es::Gzip gzip;
    std::string body;
    Backoff backoff;   // between resends when the server names no Retry-After
    std::thread thread;
  };
  // What became of one request: settled (accepted or dead-lettered), or retry the delivery.
  struct Sent {
    bool retry = false;
    std::string reason;
  };

  void sender_loop(Sender& s);
  DeliveryResult run_job(Sender& s, const Job& job);
  Sent send_slices(Sender& s, std::span<const Slice> slices);
  // The receiver refused the request's record at `index` for good: it is dead-lettered, the
  // others are sent again.
  Sent dead_letter_one(Sender& s, std::span<const Slice> slices, std::size_t index,
                       PermanentError why, const std::string& detail);
  es::HttpResult post(Sender& s, std::string_view payload);
  Status dead_letter(std::span<const Slice> slices, PermanentError why, std::string_view detail);
  uint32_t settled(const Batch* b);
  void mark_settled(std::span<const Slice> slices);
  void forget_settled(const Job& job);

  const Settings s_;
  es::HostUrl url_;
  std::string target_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  OutputContext* ctx_ = nullptr;
  std::string name_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable stop_cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Sender>> senders_;
  ComponentLog log_{PluginContext{PluginKind::kOutput, "", ""}};   // named at start
  log::RateLimit problem_log_{5, std::chrono::seconds(10)};
  // Batches a delivery handed back for retry had partly settled: how many of their events. The
  // shared pointer keeps the batch, so its address cannot name another batch meanwhile.
  std::mutex settled_mu_;
  std::unordered_map<const Batch*, std::pair<SharedBatch, uint32_t>> settled_;

  std::atomic<uint64_t>* requests_ = nullptr;
  std::atomic<uint64_t>* request_bytes_ = nullptr;
  std::atomic<uint64_t>* resends_ = nullptr;
  std::atomic<uint64_t>* rejected_ = nullptr;
  std::atomic<uint64_t>* splits_ = nullptr;
};

}  // namespace logship::plugins::httpbatch
