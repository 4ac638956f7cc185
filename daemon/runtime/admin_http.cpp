#include "daemon/runtime/admin_http.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <list>
#include <thread>

#include "config/config_loader.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/runtime/process_metrics.h"

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

class Session;
// Open sessions, oldest first. Only touched on the io thread.
using SessionList = std::list<Session*>;

// One request per connection, then close: scrapers and probes reconnect anyway, and it keeps
// a slow client from holding anything beyond its own socket for kIoTimeout.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminHttp::ReadyFn& ready, SessionList& live)
      : stream_(std::move(socket)), ready_(ready), live_(live),
        entry_(live.insert(live.end(), this)) {}
  ~Session() { unlist(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Evicted to make room: pending operations complete with operation_aborted and release it.
  void close() {
    unlist();
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
      if (ready_ && ready_(&why)) {
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
  const AdminHttp::ReadyFn& ready_;
  SessionList& live_;
  SessionList::iterator entry_;
  bool listed_ = true;
};

}  // namespace

struct AdminHttp::Impl {
  // Before io: sessions still queued in io unlist themselves when io is destroyed.
  SessionList live;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::steady_timer retry{io};
  ReadyFn ready;
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
      std::make_shared<Session>(std::move(socket), ready, live)->run();
      accept();
    });
  }
};

AdminHttp::AdminHttp() : impl_(std::make_unique<Impl>()) {}

AdminHttp::~AdminHttp() { stop(); }

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
  impl_->ready = std::move(ready);
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
                log::kv("paths", "/metrics /health /ready"));
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
