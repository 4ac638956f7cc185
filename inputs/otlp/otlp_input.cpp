// Receives OTLP/HTTP logs (POST /v1/logs, protobuf or JSON, optionally gzip) from OpenTelemetry
// SDKs and Collectors. A request is answered 200 only once every event it carried is settled:
// delivered by every output of the route, or durable in a disk buffer. Until then the request
// is held, so a sender never drops what logship has not got; senders retry what they did not
// get a 200 for (429/503 with Retry-After when too many requests are held, 503 at shutdown),
// so delivery is at-least-once. With tls_cert_file the listener serves HTTPS only (the TLS
// context of inputs/common/server_tls, as syslog's); a client that does not complete a TLS
// handshake within read_timeout (plain HTTP, say) is disconnected and counted.
//
// Threads:
//   io    one Asio thread: accepts, reads requests (idle_timeout between requests,
//         read_timeout for one request), writes replies.
//   pump  decompresses and decodes a request into one batch and emits it; the emit blocks while
//         the pipeline is backpressured, which holds the requests behind it.
// Every batch carries, beside the stream's own acknowledgement entry, an entry of this input's
// tracker whose position is the request's sequence number: the tracker commits in order, and
// its commit answers every request up to that number.
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "inputs/otlp/bounded_gunzip.h"
#include "inputs/common/listen_endpoint.h"
#include "inputs/common/server_tls.h"
#include "inputs/otlp/otlp_decoder.h"

namespace logship::plugins {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using config::ByteSize;
using config::Millis;

struct OtlpInputOptions {
  std::string listen = "127.0.0.1:4318";
  ByteSize max_request_size{8u << 20};
  int64_t max_connections = 256;
  int64_t max_pending_requests = 64;
  ByteSize max_pending_bytes{64u << 20};
  Millis idle_timeout{120000};
  Millis read_timeout{30000};
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;

  static const config::OptionSchema<OtlpInputOptions>& schema() {
    using O = OtlpInputOptions;
    static const auto s =
        config::OptionSchema<O>{}
            .add("listen", &O::listen,
                 "HTTP listen address host:port; port 0 picks a free port (logged). Serves "
                 "POST /v1/logs.")
            .add("max_request_size", &O::max_request_size,
                 "Largest request body, and largest body after gzip decompression; larger "
                 "ones are answered 413.",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("max_connections", &O::max_connections,
                 "Concurrent connections; more are closed at once (counted).",
                 config::in_range(1, 1000000))
            .add("max_pending_requests", &O::max_pending_requests,
                 "Requests held until the pipeline has settled their events; more are answered "
                 "429 with Retry-After, so the sender retries later.",
                 config::in_range(1, 1000000))
            .add("max_pending_bytes", &O::max_pending_bytes,
                 "Bytes of bodies held like max_pending_requests; a request that would pass it "
                 "is answered 429.",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("idle_timeout", &O::idle_timeout,
                 "A connection that starts no request for this long is closed (counted).",
                 config::at_least(Millis(100), "100ms"))
            .add("read_timeout", &O::read_timeout,
                 "A request must arrive whole within this long after its first byte; else the "
                 "connection is closed (counted).",
                 config::at_least(Millis(100), "100ms"))
            .add("tls_cert_file", &O::tls_cert_file,
                 "Server certificate chain (PEM): the listener serves HTTPS only. Empty = plain "
                 "HTTP.")
            .add("tls_key_file", &O::tls_key_file, "Server private key (PEM).")
            .add("tls_ca_file", &O::tls_ca_file,
                 "When set, clients must present a certificate signed by these CAs (mutual TLS).");
    return s;
  }
  Status validate() const {
    if (max_pending_bytes.bytes < max_request_size.bytes) {
      return Status::invalid("max_pending_bytes must be at least max_request_size");
    }
    if (tls_cert_file.empty()) {
      if (!tls_key_file.empty() || !tls_ca_file.empty()) {
        return Status::invalid("tls_key_file and tls_ca_file need tls_cert_file");
      }
      return Status::ok();
    }
    if (tls_key_file.empty()) return Status::invalid("tls_cert_file needs tls_key_file");
    // Loads the files now, so that a wrong path or PEM is a configuration error, not a failed start.
    std::optional<asio::ssl::context> tls;
    return make_server_tls({tls_cert_file, tls_key_file, tls_ca_file}, &tls);
  }
};

struct Counters {
  std::atomic<uint64_t>* requests;
  std::atomic<uint64_t>* records;
  std::atomic<uint64_t>* malformed;
  std::atomic<uint64_t>* too_large;
  std::atomic<uint64_t>* throttled;
  std::atomic<uint64_t>* rejected;
  std::atomic<uint64_t>* timed_out;
  std::atomic<uint64_t>* tls_failures;
};

// An OTLP error body: google.rpc.Status {code, message} in the request's encoding.
std::string status_body(bool json, int code, std::string_view message) {
  std::string out;
  if (json) {
    out = "{\"code\":" + std::to_string(code) + ",\"message\":";
    json::append_string(out, message);
    out += '}';
    return out;
  }
  out += char(0x08);
  out += char(code);   // codes used here are below 128
  out += char(0x12);
  std::size_t n = message.size();
  while (n >= 0x80) {
    out += char((n & 0x7f) | 0x80);
    n >>= 7;
  }
  out += char(n);
  out += message;
  return out;
}

class OtlpInput;

class Session : public std::enable_shared_from_this<Session> {
 public:
  // The stream is built in place: Boost 1.74's ssl::stream does not survive a move intact.
  Session(OtlpInput& owner, tcp::socket sock, asio::ssl::context* tls) : owner_(owner) {
    if (tls) {
      tls_.emplace(std::move(sock), *tls);
    } else {
      plain_.emplace(std::move(sock));
    }
  }
  void start();
  // The answer to the request in flight; the connection then reads the next one unless `close`.
  void reply(int status, std::string body, bool close, int retry_after_s = 0);
  void close();
  bool json() const { return json_; }
  bool closed() const { return closed_; }

 private:
  void wait_for_request();
  void read_request();
  void on_request();

  beast::tcp_stream& transport() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  // Calls f with the stream requests are read from and replies written to.
  template <class F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  OtlpInput& owner_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  bool json_ = false;
  bool closed_ = false;
  bool response_writing_ = false;
  std::list<std::weak_ptr<Session>>::iterator entry_;
  friend class OtlpInput;
};

// Requests handed to the pump, and requests emitted and not yet settled. Shared with the ack
// tracker's commit sink, which may outlive the input (batches still queued at an output).
struct Pending {
  std::mutex mu;
  bool closed = false;                                  // the input stopped: commits do nothing
  std::map<uint64_t, std::shared_ptr<Session>> held;   // by request sequence number
  std::function<void(std::shared_ptr<Session>)> settled;   // posts the 200 (io thread)
};

class SettleSink final : public CommitSink {
 public:
  explicit SettleSink(std::shared_ptr<Pending> p) : p_(std::move(p)) {}
  void commit(const std::string&, const Position& pos) override {
    std::lock_guard lock(p_->mu);
    if (p_->closed) return;
    while (!p_->held.empty() && p_->held.begin()->first <= pos.offset) {
      p_->settled(std::move(p_->held.begin()->second));
      p_->held.erase(p_->held.begin());
    }
  }

 private:
  std::shared_ptr<Pending> p_;
};

struct Job {
  std::shared_ptr<Session> session;
  std::string body;
  bool json = false;
  bool gzip = false;
};

class OtlpInput final : public Input {
 public:
  explicit OtlpInput(const OtlpInputOptions& o) : o_(o) {}
  ~OtlpInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kInput, ctx.name(), "otlp"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    c_.requests = &metrics.counter("logship_otlp_input_requests_total",
        "Export requests answered 200");
    c_.records = &metrics.counter("logship_otlp_input_records_total",
        "Log records received in requests answered 200");
    c_.malformed = &metrics.counter("logship_otlp_input_malformed_total",
        "Requests refused as malformed (400) or unsupported (404, 405, 415)");
    c_.too_large = &metrics.counter("logship_otlp_input_too_large_total",
        "Requests above max_request_size, compressed or not (413)");
    c_.throttled = &metrics.counter("logship_otlp_input_throttled_total",
        "Requests answered 429 because too many were held");
    c_.rejected = &metrics.counter("logship_otlp_input_connections_rejected_total",
        "Connections closed because max_connections was reached");
    c_.timed_out = &metrics.counter("logship_otlp_input_connections_timed_out_total",
        "Connections closed after idle_timeout or read_timeout");
    c_.tls_failures = &metrics.counter("logship_otlp_input_tls_failures_total",
        "TLS handshakes that failed or timed out (plain HTTP to the TLS port)");
    if (!o_.tls_cert_file.empty()) {
      LOGSHIP_TRY(make_server_tls({o_.tls_cert_file, o_.tls_key_file, o_.tls_ca_file}, &tls_)
                      .with_context("otlp input " + ctx.name() + ": tls setup"));
    }
    asio::ip::address addr;
    uint16_t port = 0;
    if (!parse_listen_endpoint(o_.listen, &addr, &port)) {
      return Status::invalid("otlp input " + ctx.name() + ": bad listen address " + o_.listen);
    }
    boost::system::error_code ec;
    tcp::endpoint ep(addr, port);
    acceptor_.emplace(io_);
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::unavailable("otlp input " + ctx.name() + ": listen " + o_.listen + ": " +
                                 ec.message());
    }
    auto local = acceptor_->local_endpoint(ec);
    pending_ = std::make_shared<Pending>();
    pending_->settled = [this](std::shared_ptr<Session> s) {
      asio::post(io_, [this, s = std::move(s)] {
        c_.requests->fetch_add(1, std::memory_order_relaxed);
        release_hold(s.get());
        s->reply(200, s->json() ? "{}" : "", false);
      });
    };
    auto source = std::make_shared<SourceInfo>();
    source->input = ctx.name();
    source->key = "otlp:" + ctx.name();
    stream_ = ctx.open_stream(source, false);
    settle_ = AckTracker::create(source->key, std::make_shared<SettleSink>(pending_));
    accept();
    io_thread_ = std::thread([this] { io_.run(); });
    pump_thread_ = std::thread([this] { pump(); });
    log_.info("listening",
              log::kv(tls_ ? "https" : "http",
                      local.address().to_string() + ":" + std::to_string(local.port())));
    return Status::ok();
  }

  void stop() override {
    if (!io_thread_.joinable()) return;
    {
      std::lock_guard lock(jobs_mu_);
      stopping_ = true;
    }
    jobs_cv_.notify_all();
    // Held and queued requests get 503: the sender retries them (at-least-once).
    asio::post(io_, [this] { shut_down(); });
    pump_thread_.join();
    {
      std::lock_guard lock(pending_->mu);
      pending_->closed = true;   // no 200 after this: the sink may outlive the input
    }
    asio::post(io_, [this] { shut_down(); });   // what the pump held when it stopped
    work_.reset();
    // Replies to slow readers get a moment; then the loop is stopped regardless.
    for (int i = 0; i < 100 && !io_.stopped(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    io_.stop();
    io_thread_.join();
    {
      std::lock_guard lock(pending_->mu);
      pending_->held.clear();   // sessions must not outlive the io_context
    }
    jobs_.clear();
    if (stream_) stream_->flush(true);
    log_.info("input stopped",
              log::kv("requests", int64_t(c_.requests->load())) +
                  log::kv("malformed", int64_t(c_.malformed->load())) +
                  log::kv("too_large", int64_t(c_.too_large->load())) +
                  log::kv("throttled", int64_t(c_.throttled->load())));
  }

  // io thread: a complete request from `s`.
  void submit(const std::shared_ptr<Session>& s, std::string body, bool json, bool gzip) {
    if (stopping_io_) {
      s->reply(503, status_body(json, 14, "shutting down"), true, 1);
      return;
    }
    // service.memory_limit too: a sender cannot be paused, so past the budget it is told to
    // retry (what holds the budget is released as outputs deliver).
    if (held_requests_ >= uint64_t(o_.max_pending_requests) ||
        held_bytes_ + body.size() > o_.max_pending_bytes.bytes ||
        !MemoryBudget::global().has_room(body.size())) {
      c_.throttled->fetch_add(1, std::memory_order_relaxed);
      s->reply(429, status_body(json, 8, "too many requests held; retry later"), false, 1);
      return;
    }
    ++held_requests_;
    held_bytes_ += body.size();
    held_mem_.set(held_bytes_);
    hold_sizes_[s.get()] = body.size();
    {
      std::lock_guard lock(jobs_mu_);
      jobs_.push_back(Job{s, std::move(body), json, gzip});
    }
    jobs_cv_.notify_one();
  }

  // io thread: the request of `s` is answered (or abandoned); its budget is free again.
  void release_hold(Session* s) {
    auto it = hold_sizes_.find(s);
    if (it == hold_sizes_.end()) return;
    --held_requests_;
    held_bytes_ -= it->second;
    held_mem_.set(held_bytes_);
    hold_sizes_.erase(it);
  }

  void closed(Session* s) {
    sessions_.erase(s->entry_);
  }

  const OtlpInputOptions& options() const { return o_; }
  // io thread: a failed TLS handshake, counted and logged (rate-limited).
  void tls_failed(const beast::error_code& ec) {
    c_.tls_failures->fetch_add(1, std::memory_order_relaxed);
    log_.warn(tls_log_, "tls handshake failed; connection closed", log::kv("error", ec.message()));
  }
  Counters& counters() { return c_; }
  bool stopping_io() const { return stopping_io_; }

 private:
  void accept() {
    acceptor_->async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE) leaves the connection queued and the acceptor ready at
        // once: pause briefly instead of spinning on it.
        log_.warn("accept failed", log::kv("error", ec.message()));
        accept_pause_.expires_after(std::chrono::milliseconds(100));
        accept_pause_.async_wait([this](const boost::system::error_code& wec) {
          if (!wec && acceptor_->is_open()) accept();
        });
        return;
      }
      if (sessions_.size() >= static_cast<std::size_t>(o_.max_connections)) {
        c_.rejected->fetch_add(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        sock.close(ignored);
      } else {
        auto s = std::make_shared<Session>(*this, std::move(sock), tls_ ? &*tls_ : nullptr);
        s->entry_ = sessions_.insert(sessions_.end(), s);
        s->start();
      }
      accept();
    });
  }

  // io thread.
  void shut_down() {
    stopping_io_ = true;
    boost::system::error_code ignored;
    if (acceptor_->is_open()) acceptor_->close(ignored);
    accept_pause_.cancel();
    std::deque<Job> queued;
    {
      std::lock_guard lock(jobs_mu_);
      queued.swap(jobs_);
    }
    std::map<uint64_t, std::shared_ptr<Session>> held;
    {
      std::lock_guard lock(pending_->mu);
      held.swap(pending_->held);
    }
    for (auto& j : queued) {
      release_hold(j.session.get());
      j.session->reply(503, status_body(j.json, 14, "shutting down"), true, 1);
    }
    for (auto& [seq, s] : held) {
      release_hold(s.get());
      s->reply(503, status_body(s->json(), 14, "shutting down"), true, 1);
    }
    // Connections waiting for a request are closed; those with a reply on the way close after it.
    std::vector<std::shared_ptr<Session>> idle;
    for (auto& w : sessions_) {
      if (auto s = w.lock(); s && !hold_sizes_.count(s.get()) && !s->response_writing_) {
        idle.push_back(s);
      }
    }
    for (auto& s : idle) s->close();
  }

  // pump thread.
  void pump() {
    simdjson::dom::parser parser;
    std::string inflated;
    // The decompressed copy of a gzip body is memory like the body itself (up to
    // max_request_size while a request decodes, at most 1 MiB kept between requests).
    MemoryCharge inflated_mem(MemoryPart::kRequestBodies);
    const auto charge_inflated = [&] {   // a string's inline capacity is no heap memory
      inflated_mem.set(inflated.capacity() > std::string().capacity() ? inflated.capacity() : 0);
    };
    const auto keep_inflated_small = [&] {
      if (inflated.capacity() > (1u << 20)) std::string().swap(inflated);
      charge_inflated();
    };
    for (;;) {
      Job job;
      {
        std::unique_lock lock(jobs_mu_);
        jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (stopping_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      std::string_view body = job.body;
      if (job.gzip) {
        const auto gunzipped = otlp_in::gunzip_bounded(job.body, o_.max_request_size.bytes, &inflated);
        charge_inflated();
        if (gunzipped != otlp_in::GunzipResult::kOk) keep_inflated_small();
        switch (gunzipped) {
          case otlp_in::GunzipResult::kOk: body = inflated; break;
          case otlp_in::GunzipResult::kTooLarge:
            c_.too_large->fetch_add(1, std::memory_order_relaxed);
            answer(job, 413, "decompressed body above max_request_size", true);
            continue;
          case otlp_in::GunzipResult::kMalformed:
            c_.malformed->fetch_add(1, std::memory_order_relaxed);
            answer(job, 400, "invalid gzip body", false);
            continue;
        }
      }
      BatchPtr batch = stream_->new_batch(64);
      const int64_t now = wall_now_ns();
      std::string why = job.json ? otlp_in::decode_json(body, *batch, now, parser)
                                 : otlp_in::decode_protobuf(body, *batch, now);
      keep_inflated_small();   // decoded: the events hold what they need
      if (!why.empty()) {
        c_.malformed->fetch_add(1, std::memory_order_relaxed);
        answer(job, 400, "malformed ExportLogsServiceRequest: " + why, false);
        continue;
      }
      const std::size_t records = batch->size();
      if (records == 0) {
        c_.requests->fetch_add(1, std::memory_order_relaxed);
        answer(job, 200, "", false);
        continue;
      }
      c_.records->fetch_add(records, std::memory_order_relaxed);
      // Distinct offsets keep records of equal time and message apart in outputs that derive
      // ids from (source, offset, content), such as elasticsearch.
      for (Event& e : batch->events()) e.offset = next_offset_++;
      const uint64_t seq = ++seq_;
      batch->acks().add(settle_->track(Position{seq, {}}));
      {
        std::lock_guard lock(pending_->mu);
        pending_->held.emplace(seq, job.session);
      }
      // Blocks while an output is full; false only past the shutdown deadline, when the
      // request was answered 503 already.
      stream_->emit(std::move(batch), Position{seq, {}});
    }
  }

  void answer(const Job& job, int status, std::string message, bool close) {
    asio::post(io_, [this, s = job.session, status, message = std::move(message), close] {
      release_hold(s.get());
      if (status == 200) {
        s->reply(200, s->json() ? "{}" : "", close);
      } else {
        s->reply(status, status_body(s->json(), status == 413 ? 8 : 3, message), close);
      }
    });
  }

  const OtlpInputOptions o_;
  InputContext* ctx_ = nullptr;
  std::optional<asio::ssl::context> tls_;
  Counters c_{};
  asio::io_context io_{1};
  // Keeps the loop running between requests until stop() lets it finish its last replies.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::optional<tcp::acceptor> acceptor_;
  asio::steady_timer accept_pause_{io_};
  std::unique_ptr<StreamHandle> stream_;
  std::shared_ptr<AckTracker> settle_;
  std::shared_ptr<Pending> pending_;
  std::thread io_thread_;
  std::thread pump_thread_;

  // io thread only.
  std::list<std::weak_ptr<Session>> sessions_;
  std::map<const Session*, std::size_t> hold_sizes_;   // sessions with a request held
  uint64_t held_requests_ = 0;
  uint64_t held_bytes_ = 0;
  MemoryCharge held_mem_{MemoryPart::kRequestBodies};   // held_bytes_, in the memory budget
  bool stopping_io_ = false;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", "otlp"}};   // named at start
  log::RateLimit tls_log_{5, std::chrono::seconds(10)};

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  uint64_t seq_ = 0;           // pump thread only
  uint64_t next_offset_ = 0;   // pump thread only
};

void Session::start() {
  if (!tls_) return wait_for_request();
  // The handshake must end within read_timeout; plain HTTP fails it at its first bytes.
  transport().expires_after(owner_.options().read_timeout);
  tls_->async_handshake(asio::ssl::stream_base::server,
                        [self = shared_from_this()](beast::error_code ec) {
                          if (ec) {
                            self->owner_.tls_failed(ec);
                            return self->close();
                          }
                          self->wait_for_request();
                        });
}

void Session::wait_for_request() {
  if (closed_) return;
  if (buf_.size() > 0) return read_request();   // pipelined bytes already here
  // Between requests: idle_timeout for the first byte of the next one.
  transport().expires_after(owner_.options().idle_timeout);
  with_stream([&](auto& stream) {
    stream.async_read_some(buf_.prepare(16 * 1024),
                           [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                             if (ec) {
                               if (ec == beast::error::timeout) {
                                 self->owner_.counters().timed_out->fetch_add(1);
                               }
                               return self->close();
                             }
                             self->buf_.commit(n);
                             self->read_request();
                           });
  });
}

void Session::read_request() {
  parser_.emplace();
  parser_->body_limit(owner_.options().max_request_size.bytes);
  parser_->header_limit(64 * 1024);
  transport().expires_after(owner_.options().read_timeout);
  with_stream([&](auto& stream) {
    http::async_read(stream, buf_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (self->closed_) return;
                       if (ec == http::error::body_limit) {
                         self->owner_.counters().too_large->fetch_add(1);
                         return self->reply(413, status_body(false, 8, "body above max_request_size"),
                                            true);
                       }
                       if (ec) {
                         if (ec == beast::error::timeout) {
                           self->owner_.counters().timed_out->fetch_add(1);
                         }
                         return self->close();
                       }
                       self->on_request();
                     });
  });
}

void Session::on_request() {
  auto& req = parser_->get();
  transport().expires_never();   // held until the pipeline settles the events
  auto sv = [](beast::string_view v) { return std::string_view(v.data(), v.size()); };
  std::string_view ctype = sv(req[http::field::content_type]);
  ctype = ctype.substr(0, ctype.find(';'));
  while (!ctype.empty() && ctype.back() == ' ') ctype.remove_suffix(1);
  json_ = ctype == "application/json";
  std::string_view target = sv(req.target());
  target = target.substr(0, target.find('?'));
  const bool keep = req.keep_alive();
  auto refuse = [&](int status, std::string_view why) {
    owner_.counters().malformed->fetch_add(1);
    reply(status, status_body(json_, status == 404 ? 12 : 3, why), !keep);
  };
  if (target != "/v1/logs") return refuse(404, "only /v1/logs is served");
  if (req.method() != http::verb::post) return refuse(405, "only POST");
  if (ctype != "application/json" && ctype != "application/x-protobuf") {
    return refuse(415, "Content-Type must be application/x-protobuf or application/json");
  }
  std::string_view encoding = sv(req[http::field::content_encoding]);
  const bool gzip = encoding == "gzip";
  if (!gzip && !encoding.empty() && encoding != "identity") {
    return refuse(415, "Content-Encoding must be gzip or none");
  }
  owner_.submit(shared_from_this(), std::move(req.body()), json_, gzip);
}

void Session::reply(int status, std::string body, bool close_after, int retry_after_s) {
  if (closed_) return;
  const bool keep = !close_after && parser_ && parser_->get().keep_alive() &&
                    !owner_.stopping_io();
  response_ = {};
  response_.version(parser_ ? parser_->get().version() : 11);
  response_.result(static_cast<http::status>(status));
  response_.set(http::field::server, "logship");
  response_.set(http::field::content_type, json_ ? "application/json" : "application/x-protobuf");
  if (retry_after_s > 0) response_.set(http::field::retry_after, std::to_string(retry_after_s));
  response_.body() = std::move(body);
  response_.keep_alive(keep);
  response_.prepare_payload();
  response_writing_ = true;
  transport().expires_after(owner_.options().idle_timeout);
  with_stream([&](auto& stream) {
    http::async_write(stream, response_,
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        self->response_writing_ = false;
                        if (ec || !keep || self->owner_.stopping_io()) return self->close();
                        self->wait_for_request();
                      });
  });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  owner_.release_hold(this);
  beast::error_code ignored;
  // No TLS close_notify: the connection ends with the reply, or is abandoned.
  transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
  transport().socket().close(ignored);
  owner_.closed(this);
}

}  // namespace

const PluginInfo& otlp_input() {
  static const PluginInfo info{
      PluginKind::kInput, "otlp",
      "OTLP/HTTP logs receiver (POST /v1/logs, protobuf or JSON, gzip); answers once delivered.",
      &schema_of<OtlpInputOptions>, &bind_input<OtlpInputOptions, OtlpInput>};
  return info;
}

}  // namespace logship::plugins
