#include "inputs/docker_plugin/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "daemon/runtime/log.h"
#include "daemon/state/atomic_file.h"

namespace logship::docker_plugin {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using unix_stream = net::local::stream_protocol;

struct HttpServer::Conn {
  net::io_context ioc;   // sync I/O only; never run
  unix_stream::socket sock{ioc};
  std::thread thread;
  std::atomic<bool> done{false};
};

namespace {

constexpr std::string_view kJsonType = "application/vnd.docker.plugins.v1+json";

class BeastWriter final : public ResponseWriter {
 public:
  BeastWriter(unix_stream::socket& s, unsigned version, bool keep_alive)
      : s_(s), version_(version), keep_alive_(keep_alive) {}

  bool reply(int status, std::string_view body) override {
    http::response<http::string_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::content_type, beast::string_view(kJsonType.data(), kJsonType.size()));
    res.keep_alive(keep_alive_);
    res.body().assign(body);
    res.prepare_payload();
    beast::error_code ec;
    http::write(s_, res, ec);
    replied_ = true;
    return !ec;
  }
  bool begin_stream(std::string_view content_type) override {
    http::response<http::empty_body> res{http::status::ok, version_};
    res.set(http::field::content_type,
            beast::string_view(content_type.data(), content_type.size()));
    res.chunked(true);
    res.keep_alive(false);   // a stream ends the connection: simpler for every client
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(s_, sr, ec);
    replied_ = true;
    keep_alive_ = false;
    return !ec;
  }
  bool chunk(std::string_view data) override {
    if (data.empty()) return true;
    beast::error_code ec;
    net::write(s_, http::make_chunk(net::const_buffer(data.data(), data.size())), ec);
    return !ec;
  }
  bool end_stream() override {
    beast::error_code ec;
    net::write(s_, http::make_chunk_last(), ec);
    return !ec;
  }
  bool peer_closed() override {
    pollfd p{s_.native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
    char c;
    return ::recv(s_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  bool replied() const { return replied_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  unix_stream::socket& s_;
  unsigned version_;
  bool keep_alive_;
  bool replied_ = false;
};

log::RateLimit g_http_log(5, std::chrono::seconds(10));

}  // namespace

Status HttpServer::start(const std::string& socket_path, std::size_t max_body,
                         HttpHandler handler) {
  path_ = socket_path;
  max_body_ = max_body;
  handler_ = std::move(handler);
  const std::string dir = std::filesystem::path(socket_path).parent_path().string();
  if (!dir.empty()) LOGSHIP_TRY(make_dirs(dir));
  sockaddr_un addr{};
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Status::invalid("socket path too long: " + socket_path);
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  struct stat st{};
  if (::lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Status::invalid(socket_path + " exists and is not a socket");
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = probe >= 0 &&
                ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (probe >= 0) ::close(probe);
    if (live) return Status::unavailable(socket_path + " is served by another process");
    ::unlink(socket_path.c_str());   // stale, from a crashed run
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return Status::io("socket", errno);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    int err = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::io("bind " + socket_path, err);
  }
  // Only the engine (root) talks to a log driver.
  ::chmod(socket_path.c_str(), 0660);
  accept_thread_ = std::thread([this] { accept_loop(); });
  return Status::ok();
}

void HttpServer::accept_loop() {
  while (!stopping()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    std::lock_guard lock(mu_);
    // Reap finished connections here, so their threads never pile up.
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->done.load()) {
        (*it)->thread.join();
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (r <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto c = std::make_unique<Conn>();
    beast::error_code ec;
    c->sock.assign(unix_stream(), fd, ec);
    if (ec) {
      ::close(fd);
      continue;
    }
    Conn* raw = c.get();
    c->thread = std::thread([this, raw] { serve(raw); });
    conns_.push_back(std::move(c));
  }
}

void HttpServer::serve(Conn* c) {
  beast::flat_buffer buf;
  while (!stopping()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(max_body_);
    parser.header_limit(64 * 1024);
    beast::error_code ec;
    http::read(c->sock, buf, parser, ec);
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::bad_descriptor ||
        ec == net::error::operation_aborted) {
      break;
    }
    if (ec) {
      // Malformed HTTP or a body over the limit: say so, then drop the connection (the parser
      // cannot find the next request's start).
      const bool too_big = ec == http::error::body_limit;
      uint64_t suppressed = 0;
      if (g_http_log.allow(&suppressed)) {
        log::warn("docker_plugin", "bad HTTP request",
                  log::kv("error", ec.message()) +
                      log::kv("suppressed", static_cast<int64_t>(suppressed)));
      }
      BeastWriter w(c->sock, 11, false);
      std::string body = "{\"Err\":\"";
      body += too_big ? "request body too large" : "malformed HTTP request";
      body += "\"}";
      w.reply(too_big ? 413 : 400, body);
      break;
    }
    const auto& msg = parser.get();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    std::string_view target(msg.target().data(), msg.target().size());
    req.path = std::string(target.substr(0, target.find('?')));
    req.body = msg.body();
    BeastWriter w(c->sock, msg.version(), msg.keep_alive());
    handler_(req, w);
    if (!w.replied()) w.reply(500, "{\"Err\":\"no reply\"}");
    if (!w.keep_alive()) break;
  }
  beast::error_code ec;
  c->sock.shutdown(unix_stream::socket::shutdown_both, ec);
  c->done.store(true);
}

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
  }
  std::list<std::unique_ptr<Conn>> conns;
  {
    std::lock_guard lock(mu_);
    conns.swap(conns_);
  }
  // shutdown() wakes a thread blocked in read; the socket is closed after the join.
  for (auto& c : conns) ::shutdown(c->sock.native_handle(), SHUT_RDWR);
  for (auto& c : conns) {
    if (c->thread.joinable()) c->thread.join();
  }
}

}  // namespace logship::docker_plugin
