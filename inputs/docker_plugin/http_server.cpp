#include "inputs/docker_plugin/http_server.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "daemon/core/clock.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/runtime/log.h"
#include "daemon/state/atomic_file.h"

namespace logship::docker_plugin {

namespace beast = boost::beast;
namespace http = beast::http;

struct HttpServer::Conn {
  int fd = -1;
  beast::flat_buffer buf;
  std::optional<http::request_parser<http::string_body>> parser;
  // The request being served (set when complete, owned by its worker or stream until returned).
  HttpRequest req;
  unsigned version = 11;
  bool keep_alive = true;
  bool closed = false;
  bool in_epoll = false;
  bool waiting = false;
  TimePoint deadline{};
  std::list<std::unique_ptr<Conn>>::iterator self;
  std::list<Conn*>::iterator waiting_pos;
};

struct HttpServer::Stream {
  std::thread thread;
  std::atomic<bool> done{false};
};

struct HttpServer::Counters {
  std::atomic<uint64_t>* idle_timeout;
  std::atomic<uint64_t>* evicted;
  std::atomic<uint64_t>* all_busy;
  std::atomic<uint64_t>* streams_full;
  std::atomic<uint64_t>* no_thread;
  std::atomic<uint64_t>* bad_request;
  std::atomic<int64_t>* open;
};

namespace {

constexpr std::string_view kJsonType = "application/vnd.docker.plugins.v1+json";
constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;
// epoll tags for the two fds that are not connections.
char g_listen_tag;
char g_wake_tag;

std::string status_line(int status) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason.data(), reason.size()) +
         "\r\n";
}

std::string err_body(std::string_view why) {
  return "{\"Err\":\"" + std::string(why) + "\"}";   // callers pass plain ASCII, no quotes
}

// Writes a response on a non-blocking socket; gives up when no byte moved for `idle`.
class ConnWriter final : public ResponseWriter {
 public:
  ConnWriter(const HttpServer& server, int fd, bool keep_alive, std::chrono::milliseconds idle)
      : server_(server), fd_(fd), keep_alive_(keep_alive), idle_(idle) {}

  bool reply(int status, std::string_view body) override {
    replied_ = true;
    std::string head = status_line(status);
    head += "Content-Type: ";
    head += kJsonType;
    head += "\r\nContent-Length: " + std::to_string(body.size());
    head += keep_alive_ ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
    iovec iov[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
    return send_all(iov, 2);
  }
  bool begin_stream(std::string_view content_type) override {
    replied_ = true;
    keep_alive_ = false;   // a stream ends the connection: simpler for every client
    std::string head = status_line(200);
    head += "Content-Type: ";
    head += content_type;
    head += "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    iovec iov[1] = {{head.data(), head.size()}};
    return send_all(iov, 1);
  }
  bool chunk(std::string_view data) override {
    if (data.empty()) return !failed_;
    char size[24];
    const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    static char crlf[] = "\r\n";
    iovec iov[3] = {{size, static_cast<std::size_t>(n)},
                    {const_cast<char*>(data.data()), data.size()},
                    {crlf, 2}};
    return send_all(iov, 3);
  }
  bool end_stream() override {
    static char last[] = "0\r\n\r\n";
    iovec iov[1] = {{last, 5}};
    return send_all(iov, 1);
  }
  bool peer_closed() override {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  bool replied() const { return replied_; }
  bool reusable() const { return keep_alive_ && !failed_; }

 private:
  bool send_all(iovec* iov, int count) {
    if (failed_) return false;
    auto progress = SteadyClock::now();
    while (count > 0) {
      msghdr m{};
      m.msg_iov = iov;
      m.msg_iovlen = static_cast<std::size_t>(count);
      ssize_t r = ::sendmsg(fd_, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r >= 0) {
        auto left = static_cast<std::size_t>(r);
        while (count > 0 && left >= iov->iov_len) {
          left -= iov->iov_len;
          ++iov;
          --count;
        }
        if (count > 0) {
          iov->iov_base = static_cast<char*>(iov->iov_base) + left;
          iov->iov_len -= left;
        }
        progress = SteadyClock::now();
        continue;
      }
      if (errno == EINTR) continue;
      // A client that stopped reading (a paused `docker logs -f`) is dropped after idle_timeout;
      // shutdown does not wait for it at all.
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && !server_.stopping() &&
          SteadyClock::now() - progress < idle_) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 100);
        continue;
      }
      failed_ = true;
      return false;
    }
    return true;
  }

  const HttpServer& server_;
  const int fd_;
  bool keep_alive_;
  const std::chrono::milliseconds idle_;
  bool replied_ = false;
  bool failed_ = false;
};

// Runs the handler for one request; a handler that throws or never answers still gets a reply.
void run_handler(const HttpHandler& handler, const HttpRequest& req, ConnWriter& w,
                 const ComponentLog& log) {
  try {
    handler(req, w);
  } catch (const std::exception& e) {
    log.error("request failed", log::kv("path", req.path) + log::kv("error", e.what()));
  }
  if (!w.replied()) w.reply(500, err_body("no reply"));
}

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const PluginContext& plugin, const std::string& socket_path,
                         const HttpLimits& limits, HttpHandler handler, IsLongLived long_lived) {
  log_ = ComponentLog(plugin);
  path_ = socket_path;
  limits_ = limits;
  handler_ = std::move(handler);
  long_lived_ = std::move(long_lived);
  const ComponentMetrics metrics(plugin);
  const char* closed_help = "docker_plugin HTTP connections closed by the server, by reason";
  auto closed = [&](const char* reason) {
    return &metrics.counter("logship_plugin_http_connections_closed_total", closed_help,
                            "reason", reason);
  };
  counters_ = std::make_unique<Counters>(Counters{
      closed("idle_timeout"), closed("evicted"), closed("all_busy"), closed("streams_full"),
      closed("no_thread"), closed("bad_request"),
      &metrics.gauge("logship_plugin_http_connections", "Open docker_plugin HTTP connections")});

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
      // A deep backlog: a client that connects while the loop is busy (a flood of
      // connections) must wait, not get EAGAIN (Go's dialer, the engine's, reports that as an
      // error).
      ::listen(listen_fd_, SOMAXCONN) != 0) {
    int err = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::io("bind " + socket_path, err);
  }
  // Only the engine (root) talks to a log driver.
  if (::chmod(socket_path.c_str(), 0660) != 0) {
    Status s = Status::io("chmod " + socket_path, errno);
    stop();
    return s;
  }
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.ptr = &g_listen_tag;
  epoll_event wev{};
  wev.events = EPOLLIN;
  wev.data.ptr = &g_wake_tag;
  if (epoll_fd_ < 0 || wake_fd_ < 0 ||
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &lev) != 0 ||
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wev) != 0) {
    Status s = Status::io("epoll", errno);
    stop();
    return s;
  }
  try {
    loop_thread_ = std::thread([this] { loop(); });
  } catch (const std::system_error& e) {
    stop();
    return Status::unavailable(std::string("cannot start the HTTP thread: ") + e.what());
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(1, limits_.workers); ++i) {
    try {
      workers_.emplace_back([this] { work(); });
    } catch (const std::system_error& e) {
      log_.error("cannot start an HTTP worker thread; serving with fewer",
                 log::kv("error", e.what()) +
                     log::kv("workers", static_cast<int64_t>(workers_.size())));
      break;
    }
  }
  if (workers_.empty()) {
    stop();
    return Status::unavailable("cannot start any HTTP worker thread");
  }
  return Status::ok();
}

void HttpServer::wake() {
  uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void HttpServer::loop() {
  epoll_event events[64];
  while (!stopping()) {
    int n = ::epoll_wait(epoll_fd_, events, 64, 200);
    if (n < 0 && errno != EINTR) {
      log_.error("epoll_wait failed", log::kv("error", std::strerror(errno)));
      n = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &g_wake_tag) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
      } else if (tag == &g_listen_tag) {
        accept_all();
      } else {
        on_readable(static_cast<Conn*>(tag));
      }
    }
    take_back_returned();
    const TimePoint now = SteadyClock::now();
    // Every waiting connection has the same timeout, so the list is in deadline order.
    while (!waiting_.empty() && waiting_.front()->deadline <= now) {
      close_conn(waiting_.front(), counters_->idle_timeout);
    }
    reap_streams(false);
    graveyard_.clear();   // no event of this batch can point at them any more
  }
}

void HttpServer::accept_all() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      const int err = errno;
      warn_limited("accept failed", log::kv("error", std::strerror(err)));
      // Out of descriptors: the longest-waiting connection makes room. Without one to close,
      // the pending connection waits in the backlog and the listening socket stays readable:
      // a short pause keeps the retries from spinning.
      if ((err == EMFILE || err == ENFILE) && !waiting_.empty()) {
        close_conn(waiting_.front(), counters_->evicted);
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    if (conns_.size() >= limits_.max_connections) {
      if (waiting_.empty()) {
        // Every connection is being served: the budget is spent on real work.
        conns_.push_back(std::move(c));
        conns_.back()->self = std::prev(conns_.end());
        counters_->open->fetch_add(1, std::memory_order_relaxed);
        refuse(conns_.back().get(), 503, "too many connections", counters_->all_busy);
        warn_limited("max_connections reached with every connection busy; refused one");
        continue;
      }
      close_conn(waiting_.front(), counters_->evicted);
      warn_limited("max_connections reached; closed the connection idle the longest");
    }
    Conn* raw = c.get();
    conns_.push_back(std::move(c));
    raw->self = std::prev(conns_.end());
    counters_->open->fetch_add(1, std::memory_order_relaxed);
    wait_for_request(raw);
  }
}

void HttpServer::wait_for_request(Conn* c) {
  c->deadline = SteadyClock::now() + limits_.idle_timeout;
  c->waiting = true;
  waiting_.push_back(c);
  c->waiting_pos = std::prev(waiting_.end());
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
    warn_limited("epoll_ctl failed; connection closed", log::kv("error", std::strerror(errno)));
    close_conn(c, nullptr);
    return;
  }
  c->in_epoll = true;
  // A pipelined request may be buffered already.
  if (c->buf.size() > 0) parse(c);
}

void HttpServer::on_readable(Conn* c) {
  if (c->closed || !c->waiting) return;
  // A bounded number of reads per wake-up: one fast sender cannot starve the others.
  for (int i = 0; i < 16; ++i) {
    auto space = c->buf.prepare(kReadChunk);
    ssize_t r = ::recv(c->fd, space.data(), space.size(), MSG_DONTWAIT);
    if (r > 0) {
      c->buf.commit(static_cast<std::size_t>(r));
      if (parse(c)) return;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    close_conn(c, nullptr);   // the peer closed, or reset
    return;
  }
}

// True when the connection left the waiting list (request dispatched, or closed).
bool HttpServer::parse(Conn* c) {
  if (!c->parser) {
    c->parser.emplace();
    c->parser->header_limit(kHeaderLimit);
    c->parser->body_limit(limits_.max_body);
    c->parser->eager(true);
  }
  while (c->buf.size() > 0 && !c->parser->is_done()) {
    beast::error_code ec;
    std::size_t used = c->parser->put(c->buf.data(), ec);
    c->buf.consume(used);
    if (ec == http::error::need_more) break;
    if (ec) {
      // Malformed HTTP or a body over the limit: say so, then drop the connection (the parser
      // cannot find the next request's start).
      const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
      warn_limited("bad HTTP request", log::kv("error", ec.message()));
      refuse(c, too_big ? 413 : 400, too_big ? "request too large" : "malformed HTTP request",
             counters_->bad_request);
      return true;
    }
    if (used == 0) break;
  }
  if (!c->parser->is_done()) return false;
  auto& msg = c->parser->get();
  c->req.method = std::string(msg.method_string());
  std::string_view target(msg.target().data(), msg.target().size());
  c->req.path = std::string(target.substr(0, target.find('?')));
  c->req.body = std::move(msg.body());
  c->version = msg.version();
  c->keep_alive = msg.keep_alive();
  c->parser.reset();
  dispatch(c);
  return true;
}

void HttpServer::dispatch(Conn* c) {
  waiting_.erase(c->waiting_pos);
  c->waiting = false;
  // The serving thread owns the socket now; the loop looks at it again once it is returned.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  c->in_epoll = false;
  if (long_lived_ && long_lived_(c->req)) {
    reap_streams(false);
    if (streams_.size() >= limits_.max_streams) {
      warn_limited("max_log_streams reached; ReadLogs refused");
      refuse(c, 503, "too many log streams", counters_->streams_full);
      return;
    }
    auto s = std::make_unique<Stream>();
    Stream* raw = s.get();
    try {
      s->thread = std::thread([this, c, raw] {
        serve(c);
        give_back(c, false);
        raw->done.store(true);
      });
    } catch (const std::system_error& e) {
      log_.error("cannot start a thread for a log stream; request refused",
                 log::kv("error", e.what()));
      refuse(c, 503, "cannot start a thread", counters_->no_thread);
      return;
    }
    streams_.push_back(std::move(s));
    return;
  }
  {
    std::lock_guard lock(mu_);
    work_.push_back(c);
  }
  work_cv_.notify_one();
}

void HttpServer::work() {
  for (;;) {
    Conn* c = nullptr;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping() || !work_.empty(); });
      if (stopping()) return;   // stop() closes every connection, queued ones included
      c = work_.front();
      work_.pop_front();
    }
    const bool keep = c->keep_alive;
    ConnWriter w(*this, c->fd, keep, limits_.idle_timeout);
    run_handler(handler_, c->req, w, log_);
    give_back(c, w.reusable());
  }
}

void HttpServer::serve(Conn* c) {
  ConnWriter w(*this, c->fd, false, limits_.idle_timeout);
  run_handler(handler_, c->req, w, log_);
}

void HttpServer::give_back(Conn* c, bool keep) {
  // A kept-alive connection should cost little while it waits: the request is dropped here.
  c->req = HttpRequest{};
  {
    std::lock_guard lock(mu_);
    returned_.emplace_back(c, keep);
  }
  wake();
}

void HttpServer::take_back_returned() {
  std::vector<std::pair<Conn*, bool>> back;
  {
    std::lock_guard lock(mu_);
    back.swap(returned_);
  }
  for (auto [c, keep] : back) {
    if (keep && !stopping()) {
      if (c->buf.size() == 0) c->buf.shrink_to_fit();
      wait_for_request(c);
    } else {
      close_conn(c, nullptr);
    }
  }
}

void HttpServer::refuse(Conn* c, int status, std::string_view why,
                        std::atomic<uint64_t>* reason) {
  // Best effort and never blocking: the refusal is only a courtesy to the client.
  std::string body = err_body(why);
  std::string msg = status_line(status);
  msg += "Content-Type: ";
  msg += kJsonType;
  msg += "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
  (void)!::send(c->fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (c->waiting) {
    waiting_.erase(c->waiting_pos);
    c->waiting = false;
  }
  close_conn(c, reason);
}

void HttpServer::close_conn(Conn* c, std::atomic<uint64_t>* reason) {
  if (c->closed) return;
  if (reason) reason->fetch_add(1, std::memory_order_relaxed);
  if (c->waiting) {
    waiting_.erase(c->waiting_pos);
    c->waiting = false;
  }
  if (c->in_epoll) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  c->in_epoll = false;
  ::close(c->fd);
  c->fd = -1;
  c->closed = true;
  counters_->open->fetch_sub(1, std::memory_order_relaxed);
  graveyard_.push_back(std::move(*c->self));
  conns_.erase(c->self);
}

void HttpServer::reap_streams(bool all) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (all || (*it)->done.load()) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  wake();
  if (loop_thread_.joinable()) loop_thread_.join();
  // The loop is gone: this thread owns the connection list. Shutting every socket down wakes
  // the workers and streams blocked on one; they return quickly once stopping() is true.
  for (auto& c : conns_) ::shutdown(c->fd, SHUT_RDWR);
  work_cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  reap_streams(true);
  for (auto& c : conns_) {
    ::close(c->fd);
    if (counters_) counters_->open->fetch_sub(1, std::memory_order_relaxed);
  }
  conns_.clear();
  waiting_.clear();
  graveyard_.clear();
  work_.clear();
  returned_.clear();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
}

}  // namespace logship::docker_plugin
