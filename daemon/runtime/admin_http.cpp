#include "daemon/runtime/admin_http.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <list>
#include <optional>
#include <thread>

#include "daemon/registry/config_loader.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/runtime/process_metrics.h"
#include "daemon/runtime/reload_outcome.h"
#include "daemon/runtime/tap_hub.h"

namespace logship {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIoTimeout = std::chrono::seconds(5);
// Probes and scrapers need a handful; idle sockets beyond this cost the pipeline descriptors.
// At the cap the oldest connection is closed, so a fresh probe is always served.
constexpr std::size_t kMaxConnections = 64;
// After accept() fails (EMFILE, ENFILE, ENOBUFS) the pending connection is still there: trying
// again at once would spin. Wait for descriptors to come back.
constexpr auto kAcceptRetry = std::chrono::milliseconds(200);

// How often a POST /api/reload looks for its outcome: a reload takes at least a pipeline drain.
constexpr auto kReloadPoll = std::chrono::milliseconds(50);

// How often a tap looks for lines to send, and how long one write to a tap client may stall
// before the tap is closed (its lines are dropped and counted meanwhile).
constexpr auto kTapPoll = std::chrono::milliseconds(50);
constexpr auto kTapStall = std::chrono::seconds(60);
constexpr std::size_t kMaxTapCondition = 4096;

// Value of `key` in the query of `target`, percent-decoded ('+' is a space).
std::optional<std::string> query_param(std::string_view target, std::string_view key) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string_view raw = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      auto hex = [](char c) {
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
      };
      if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
        out.push_back(static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2])));
        i += 2;
      } else {
        out.push_back(raw[i] == '+' ? ' ' : raw[i]);
      }
    }
    return out;
  }
  return std::nullopt;
}

class Session;
// Open sessions, oldest first. Only touched on the io thread.
using SessionList = std::list<Session*>;

// What requests are answered with; set before the io thread starts, read-only after.
struct Handlers {
  AdminHttp::ReadyFn ready;
  AdminHttp::Access reload_access = AdminHttp::Access::kOff;
  std::function<void()> reload_trigger;
  std::chrono::milliseconds reload_wait{0};
  bool tap_enabled = false;
  AdminHttp::Access tap_access = AdminHttp::Access::kOff;
};

// One request per connection, then close: scrapers and probes reconnect anyway, and it keeps
// a slow client from holding anything beyond its own socket for kIoTimeout.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handlers& handlers, SessionList& live)
      : stream_(std::move(socket)), handlers_(handlers), poll_(stream_.get_executor()),
        live_(live), entry_(live.insert(live.end(), this)) {}
  ~Session() {
    unlist();
    end_tap();
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Evicted to make room: pending operations complete with operation_aborted and release it.
  void close() {
    unlist();
    end_tap();
    poll_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  void run() {
    stream_.expires_after(kIoTimeout);
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->respond();
                     });
  }

 private:
  void respond() {
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "logship");
    const std::string_view target(request_.target().data(), request_.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (path == "/api/reload" && handlers_.reload_trigger) {
      start_reload();
      return;
    }
    if (path == "/api/tap" && handlers_.tap_enabled) {
      start_tap(target);
      return;
    }
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      set(http::status::method_not_allowed, "text/plain", "only GET\n");
      response_.set(http::field::allow, "GET, HEAD");
    } else if (path == "/metrics") {
      set(http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
          Metrics::global().render_prometheus() + render_process_metrics());
    } else if (path == "/health") {
      set(http::status::ok, "text/plain", "ok\n");
    } else if (path == "/ready") {
      std::string why;
      if (handlers_.ready && handlers_.ready(&why)) {
        set(http::status::ok, "text/plain", "ready\n");
      } else {
        set(http::status::service_unavailable, "text/plain", "not ready: " + why + "\n");
      }
    } else {
      set(http::status::not_found, "text/plain", "not found; try /metrics, /health, /ready\n");
    }
    if (request_.method() == http::verb::head) {
      response_.content_length(response_.body().size());
      response_.body().clear();
    }
    send();
  }

  // POST /api/reload: starts a reload and answers with its outcome once there is one.
  void start_reload() {
    if (request_.method() != http::verb::post) {
      set(http::status::method_not_allowed, "text/plain", "only POST\n");
      response_.set(http::field::allow, "POST");
      return send();
    }
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    const bool allowed =
        handlers_.reload_access == AdminHttp::Access::kAny ||
        (handlers_.reload_access == AdminHttp::Access::kLoopback && !ec &&
         peer.address().is_loopback());
    if (!allowed) {
      set(http::status::forbidden, "text/plain",
          handlers_.reload_access == AdminHttp::Access::kOff
              ? "reload over HTTP is off (service.http_reload)\n"
              : "reload over HTTP is for loopback clients (service.http_reload)\n");
      return send();
    }
    after_ = ReloadOutcomes::global().generation();
    deadline_ = std::chrono::steady_clock::now() + handlers_.reload_wait;
    handlers_.reload_trigger();
    wait_for_outcome();
  }

  bool peer_allowed(AdminHttp::Access access) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    return access == AdminHttp::Access::kAny ||
           (access == AdminHttp::Access::kLoopback && !ec && peer.address().is_loopback());
  }

  // GET /api/tap?point=P[&where=COND][&rate=N][&format=json|line]: a 200 header, then one line
  // per tapped event until the client closes. The body has no length; the connection's end
  // ends it.
  void start_tap(std::string_view target) {
    if (request_.method() != http::verb::get) {
      set(http::status::method_not_allowed, "text/plain", "only GET\n");
      response_.set(http::field::allow, "GET");
      return send();
    }
    if (!peer_allowed(handlers_.tap_access)) {
      set(http::status::forbidden, "text/plain",
          handlers_.tap_access == AdminHttp::Access::kOff
              ? "tap is off (service.tap)\n"
              : "tap is for loopback clients (service.tap)\n");
      return send();
    }
    TapOptions options;
    const std::optional<std::string> point = query_param(target, "point");
    if (!point || point->empty()) {
      return bad_tap("point is required, e.g. point=output:es");
    }
    if (auto where = query_param(target, "where"); where && !where->empty()) {
      if (where->size() > kMaxTapCondition) return bad_tap("where: longer than 4096 bytes");
      condition::CompileError err;
      options.where = condition::Condition::compile(*where, &err);
      if (!options.where) return bad_tap("where: " + err.to_string());
    }
    if (auto rate = query_param(target, "rate")) {
      char* end = nullptr;
      const double r = std::strtod(rate->c_str(), &end);
      if (rate->empty() || *end != '\0' || !(r >= 0.1 && r <= 100000)) {
        return bad_tap("rate: events per second between 0.1 and 100000, got '" + *rate + "'");
      }
      options.rate_per_second = r;
    }
    if (auto format = query_param(target, "format")) {
      if (*format == "line") {
        options.format = TapOptions::Format::kLine;
      } else if (*format != "json") {
        return bad_tap("format: json or line, got '" + *format + "'");
      }
    }
    auto subscribed = TapHub::global().subscribe(*point, std::move(options));
    if (!subscribed.is_ok()) {
      const Status& st = subscribed.status();
      set(st.code() == Status::Code::kUnavailable ? http::status::too_many_requests
                                                  : http::status::not_found,
          "text/plain", st.message() + "\n");
      return send();
    }
    tap_ = std::move(subscribed).value();
    log::info("http", "tap opened", log::kv("point", *point));
    stream_.expires_never();
    out_ = "HTTP/1.1 200 OK\r\nServer: logship\r\nContent-Type: ";
    out_ += tap_format_json(target) ? "application/x-ndjson" : "text/plain; charset=utf-8";
    out_ += "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
    write_tap();
    watch_tap_close();
    poll_tap();
  }

  static bool tap_format_json(std::string_view target) {
    auto f = query_param(target, "format");
    return !f || *f != "line";
  }

  void bad_tap(const std::string& why) {
    set(http::status::bad_request, "text/plain", why + "\n");
    send();
  }

  // A read that completes only when the client closes (or sends something, ignored).
  void watch_tap_close() {
    stream_.socket().async_read_some(
        asio::buffer(ignored_input_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) return self->end_tap_and_close();
          self->watch_tap_close();
        });
  }

  void poll_tap() {
    if (!tap_) return;
    if (writing_ && std::chrono::steady_clock::now() - write_started_ > kTapStall) {
      return end_tap_and_close();   // a client that stopped reading altogether
    }
    if (!writing_ && tap_->has_lines()) {
      for (std::string& line : tap_->take()) out_ += line;
      write_tap();
    }
    poll_.expires_after(kTapPoll);
    poll_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->poll_tap();
    });
  }

  void write_tap() {
    if (out_.empty()) return;
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    sending_.swap(out_);
    out_.clear();
    asio::async_write(stream_.socket(), asio::buffer(sending_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->sending_.clear();
                        if (ec) return self->end_tap_and_close();
                        // A client that keeps up is fed as fast as it reads, not per poll.
                        if (self->tap_ && self->tap_->has_lines()) {
                          for (std::string& line : self->tap_->take()) self->out_ += line;
                          self->write_tap();
                        }
                      });
  }

  void end_tap() {
    if (!tap_) return;
    log::info("http", "tap closed",
              log::kv("point", tap_->point()) +
                  log::kv("sent", static_cast<int64_t>(tap_->sent())) +
                  log::kv("dropped_slow_client", static_cast<int64_t>(tap_->dropped_slow())) +
                  log::kv("dropped_rate_limit", static_cast<int64_t>(tap_->dropped_rate())));
    TapHub::global().unsubscribe(tap_);
    tap_.reset();
  }

  void end_tap_and_close() {
    if (!tap_) return;
    end_tap();
    unlist();
    poll_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  void wait_for_outcome() {
    if (!listed_) return;   // evicted meanwhile
    if (std::optional<ReloadOutcome> o = ReloadOutcomes::global().since(after_)) {
      const http::status st = o->ok()                    ? http::status::ok
                              : o->result == "rejected" ? http::status::unprocessable_entity
                                                         : http::status::internal_server_error;
      set(st, "application/json", o->to_json(::getpid()) + "\n");
      return send();
    }
    if (std::chrono::steady_clock::now() >= deadline_) {
      set(http::status::gateway_timeout, "text/plain",
          "no reload outcome yet; the daemon's log has it when it comes\n");
      return send();
    }
    poll_.expires_after(kReloadPoll);
    poll_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->wait_for_outcome();
    });
  }

  void send() {
    stream_.expires_after(kIoTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  void set(http::status status, std::string_view type, std::string body) {
    response_.result(status);
    response_.set(http::field::content_type, beast::string_view(type.data(), type.size()));
    response_.body() = std::move(body);
    response_.prepare_payload();
  }

  void unlist() {
    if (listed_) live_.erase(entry_);
    listed_ = false;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
  const Handlers& handlers_;
  asio::steady_timer poll_;
  uint64_t after_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  SessionList& live_;
  SessionList::iterator entry_;
  bool listed_ = true;
  // A tap (GET /api/tap): its subscription, the lines waiting and the lines being written.
  std::shared_ptr<TapSubscription> tap_;
  std::string out_;
  std::string sending_;
  bool writing_ = false;
  std::chrono::steady_clock::time_point write_started_;
  std::array<char, 256> ignored_input_{};
};

}  // namespace

struct AdminHttp::Impl {
  // Before io: sessions still queued in io unlist themselves when io is destroyed.
  SessionList live;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  Handlers handlers;
  std::thread thread;
  uint16_t port = 0;
  log::RateLimit accept_log{3, std::chrono::seconds(60)};
  std::atomic<uint64_t>* evicted = nullptr;
  std::atomic<uint64_t>* accept_errors = nullptr;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        accept_errors->fetch_add(1, std::memory_order_relaxed);
        uint64_t suppressed = 0;
        if (accept_log.allow(&suppressed)) {
          log::warn("http", "admin endpoint cannot accept; retrying",
                    log::kv("error", ec.message()) +
                        log::kv("suppressed", static_cast<int64_t>(suppressed)));
        }
        retry.expires_after(kAcceptRetry);
        retry.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      if (live.size() >= kMaxConnections) {
        evicted->fetch_add(1, std::memory_order_relaxed);
        live.front()->close();
      }
      std::make_shared<Session>(std::move(socket), handlers, live)->run();
      accept();
    });
  }
};

AdminHttp::AdminHttp() : impl_(std::make_unique<Impl>()) {}

AdminHttp::~AdminHttp() { stop(); }

void AdminHttp::enable_reload(Access access, std::function<void()> trigger,
                              std::chrono::milliseconds wait_limit) {
  impl_->handlers.reload_access = access;
  impl_->handlers.reload_trigger = std::move(trigger);
  impl_->handlers.reload_wait = wait_limit;
}

void AdminHttp::enable_tap(Access access) {
  impl_->handlers.tap_enabled = true;   // off still answers, with 403 and why
  impl_->handlers.tap_access = access;
}

Status AdminHttp::start(const std::string& listen, ReadyFn ready) {
  std::string host;
  uint16_t port = 0;
  if (!config::parse_listen_address(listen, &host, &port)) {
    return Status::invalid("http_listen: expected host:port, got '" + listen + "'");
  }
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status::invalid("http_listen: '" + host + "' is not an IP address");
  tcp::endpoint ep(addr, port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::unavailable("http_listen " + listen + ": " + ec.message());
  impl_->port = a.local_endpoint().port();
  impl_->handlers.ready = std::move(ready);
  impl_->evicted = &Metrics::global().counter(
      "logship_admin_connections_evicted_total", "",
      "Admin connections closed to stay within the connection cap (oldest first)");
  impl_->accept_errors = &Metrics::global().counter(
      "logship_admin_accept_errors_total", "",
      "Admin connections that could not be accepted (EMFILE, ENFILE...), retried");
  impl_->accept();
  impl_->thread = std::thread([this] {
    try {
      impl_->io.run();
    } catch (const std::exception& e) {
      log::error("http", "admin endpoint stopped", log::kv("error", e.what()));
    }
  });
  std::string shown = addr.is_v6() ? "[" + host + "]" : host;
  log::info("http", "admin endpoint listening",
            log::kv("address", shown + ":" + std::to_string(impl_->port)) +
                log::kv("paths", std::string("/metrics /health /ready") +
                                     (impl_->handlers.reload_trigger ? " /api/reload" : "") +
                                     (impl_->handlers.tap_access != Access::kOff
                                          ? " /api/tap" : "")));
  return Status::ok();
}

void AdminHttp::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry.cancel();
    impl_->io.stop();
  });
  impl_->thread.join();
}

uint16_t AdminHttp::port() const { return impl_->port; }

}  // namespace logship
