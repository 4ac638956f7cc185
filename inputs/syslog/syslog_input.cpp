// Receives syslog over UDP, TCP and TLS: RFC 5424, RFC 3164 and what real senders make of them
// (Docker's syslog driver, rsyslog forwarding, logger). One Asio io_context thread serves all
// sockets; each TCP connection has its own stream (tagged with the peer address) and frames are
// emitted per read. Syslog senders cannot replay, so streams are not checkpointed: delivery is
// at-least-once from the moment a message is read. Bad frames are counted and skipped; a bad
// client only ever loses its own connection.
//
// Connection budget: max_connections in all, max_connections_per_address from one host, and an
// idle_timeout, so idle or abandoned sockets from one sender cannot lock the others out.
// Accepted sockets use TCP keepalive, so a peer that vanished is noticed without traffic.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/listen_sockets.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "inputs/syslog/syslog_parser.h"
#include "inputs/common/listen_endpoint.h"
#include "inputs/common/server_tls.h"

namespace logship::plugins {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using config::ByteSize;
using config::Millis;

struct SyslogInputOptions {
  std::string udp;
  std::string tcp;
  bool tls = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  int64_t max_connections = 256;
  int64_t max_connections_per_address = 64;
  Millis idle_timeout{300000};
  ByteSize max_message_size{64 * 1024};
  Millis handshake_timeout{10000};

  static const config::OptionSchema<SyslogInputOptions>& schema() {
    using O = SyslogInputOptions;
    static const auto s =
        config::OptionSchema<O>{}
            .add("udp", &O::udp,
                 "UDP listen address host:port (RFC 5426); empty = off. Ports below 1024 are "
                 "bound at start, before privileges are dropped: a reload cannot add one.")
            .add("tcp", &O::tcp,
                 "TCP listen address host:port; octet counting and LF framing are detected per "
                 "frame (RFC 6587); empty = off. Ports below 1024 as for udp.")
            .add("tls", &O::tls, "Serve TLS (RFC 5425) on the tcp address.")
            .add("tls_cert_file", &O::tls_cert_file, "Server certificate chain (PEM).")
            .add("tls_key_file", &O::tls_key_file, "Server private key (PEM).")
            .add("tls_ca_file", &O::tls_ca_file,
                 "When set, clients must present a certificate signed by these CAs.")
            .add("max_connections", &O::max_connections,
                 "Concurrent TCP connections; more are closed at once (counted).",
                 config::in_range(1, 1000000))
            .add("max_connections_per_address", &O::max_connections_per_address,
                 "Concurrent TCP connections from one source address; more from it are closed "
                 "at once (counted). Raise it for relays and Docker hosts (Docker's syslog "
                 "driver opens one connection per container).",
                 config::in_range(1, 1000000))
            .add("idle_timeout", &O::idle_timeout,
                 "A TCP connection that sends nothing for this long is closed (counted); the "
                 "sender reconnects when it has something to say.",
                 config::at_least(Millis(100), "100ms"))
            .add("max_message_size", &O::max_message_size,
                 "Longer frames and datagrams are skipped (counted).",
                 config::at_least(ByteSize(480), "480B"))
            .add("handshake_timeout", &O::handshake_timeout,
                 "A TLS client that has not finished its handshake by then is disconnected.",
                 config::at_least(Millis(10), "10ms"));
    return s;
  }
  Status validate() const {
    if (udp.empty() && tcp.empty()) return Status::invalid("set udp, tcp or both");
    if (tls && tcp.empty()) return Status::invalid("tls needs a tcp address");
    if (tls && (tls_cert_file.empty() || tls_key_file.empty())) {
      return Status::invalid("tls needs tls_cert_file and tls_key_file");
    }
    return Status::ok();
  }
};

struct Counters {
  std::atomic<uint64_t>* frames;
  std::atomic<uint64_t>* garbage;
  std::atomic<uint64_t>* oversized;
  std::atomic<uint64_t>* incomplete;
  std::atomic<uint64_t>* malformed;
  std::atomic<uint64_t>* rejected;
  std::atomic<uint64_t>* rejected_per_address;
  std::atomic<uint64_t>* idle_closed;
  std::atomic<uint64_t>* tls_failures;
};

class SyslogInput;

class Session {
 public:
  virtual ~Session() = default;
  virtual void start() = 0;
  // Ends the connection: emits what is complete, reports a cut frame, closes the socket.
  virtual void shutdown() = 0;
};

// Opens `socket` on the one leased (bound at daemon start, before the privilege drop).
template <class Socket, class Protocol>
void adopt(const ListenSockets::Lease& lease, Socket& socket, const Protocol& protocol,
           boost::system::error_code& ec) {
  const int fd = lease.duplicate();
  if (fd < 0) {
    ec.assign(errno, boost::system::system_category());
    return;
  }
  socket.assign(protocol, fd, ec);
  if (ec) ::close(fd);
}

class SyslogInput final : public Input {
 public:
  explicit SyslogInput(const SyslogInputOptions& o) : o_(o) {}
  ~SyslogInput() override { stop(); }

  Status bind_privileged() override {
    asio::ip::address addr;
    uint16_t port = 0;
    if (parse_listen_endpoint(o_.tcp, &addr, &port) && is_privileged_port(port)) {
      LOGSHIP_TRY(ListenSockets::global().bind(ListenSockets::Proto::kTcp, addr.to_string(), port));
    }
    if (parse_listen_endpoint(o_.udp, &addr, &port) && is_privileged_port(port)) {
      LOGSHIP_TRY(ListenSockets::global().bind(ListenSockets::Proto::kUdp, addr.to_string(), port));
    }
    return Status::ok();
  }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    const PluginContext plugin{PluginKind::kInput, ctx.name(), "syslog"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    c_.frames = &metrics.counter("logship_syslog_input_messages_total", "Messages parsed");
    c_.garbage = &metrics.counter("logship_syslog_input_garbage_total",
        "Frames without a valid <PRI>, skipped");
    c_.oversized = &metrics.counter("logship_syslog_input_oversized_total",
        "Frames or datagrams above max_message_size, skipped");
    c_.incomplete = &metrics.counter("logship_syslog_input_incomplete_total",
        "Octet-counted frames cut off by the connection's end");
    c_.malformed = &metrics.counter("logship_syslog_input_malformed_total",
        "Messages with a broken header, kept raw");
    c_.rejected = &metrics.counter("logship_syslog_input_connections_rejected_total",
        "Connections closed because max_connections was reached");
    c_.rejected_per_address =
        &metrics.counter("logship_syslog_input_connections_rejected_per_address_total",
            "Connections closed because their address had max_connections_per_address");
    c_.idle_closed = &metrics.counter("logship_syslog_input_connections_idle_closed_total",
        "Connections closed after idle_timeout without data");
    c_.tls_failures = &metrics.counter("logship_syslog_input_tls_failures_total",
        "TLS handshakes that failed or timed out");
    if (o_.tls) {
      LOGSHIP_TRY(make_server_tls({o_.tls_cert_file, o_.tls_key_file, o_.tls_ca_file}, &tls_)
                      .with_context("syslog input " + ctx.name() + ": tls setup"));
    }
    std::string listening;
    if (!o_.tcp.empty()) {
      asio::ip::address addr;
      uint16_t port;
      if (!parse_listen_endpoint(o_.tcp, &addr, &port)) {
        return Status::invalid("syslog input " + ctx.name() + ": bad tcp address " + o_.tcp);
      }
      boost::system::error_code ec;
      acceptor_.emplace(io_);
      tcp::endpoint ep(addr, port);
      tcp_lease_ = ListenSockets::global().take(ListenSockets::Proto::kTcp, addr.to_string(), port);
      if (tcp_lease_) {
        adopt(tcp_lease_, *acceptor_, ep.protocol(), ec);
      } else {
        acceptor_->open(ep.protocol(), ec);
        if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec) acceptor_->bind(ep, ec);
        if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
      }
      if (ec) {
        return Status::unavailable("syslog input " + ctx.name() + ": listen tcp " + o_.tcp +
                                   ": " + ec.message() + privileged_hint(port));
      }
      auto local = acceptor_->local_endpoint(ec);
      listening += log::kv(o_.tls ? "tls" : "tcp",
                           local.address().to_string() + ":" + std::to_string(local.port()));
    }
    if (!o_.udp.empty()) {
      asio::ip::address addr;
      uint16_t port;
      if (!parse_listen_endpoint(o_.udp, &addr, &port)) {
        return Status::invalid("syslog input " + ctx.name() + ": bad udp address " + o_.udp);
      }
      boost::system::error_code ec;
      udp::endpoint ep(addr, port);
      udp_.emplace(io_);
      udp_lease_ = ListenSockets::global().take(ListenSockets::Proto::kUdp, addr.to_string(), port);
      if (udp_lease_) {
        adopt(udp_lease_, *udp_, ep.protocol(), ec);
      } else {
        udp_->open(ep.protocol(), ec);
        if (!ec) udp_->set_option(udp::socket::reuse_address(true), ec);
        if (!ec) udp_->bind(ep, ec);
      }
      if (ec) {
        return Status::unavailable("syslog input " + ctx.name() + ": bind udp " + o_.udp + ": " +
                                   ec.message() + privileged_hint(port));
      }
      // Bursts arrive faster than one thread parses them; a larger buffer loses fewer.
      udp_->set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
      udp_->non_blocking(true, ec);
      auto local = udp_->local_endpoint(ec);
      listening += log::kv("udp", local.address().to_string() + ":" + std::to_string(local.port()));
      auto src = std::make_shared<SourceInfo>();
      src->input = ctx.name();
      src->key = "syslog:" + ctx.name() + ":udp";
      udp_stream_ = ctx.open_stream(std::move(src), /*checkpointed=*/false);
      udp_buf_.resize(o_.max_message_size.bytes + 1);
    }
    log_.info("listening", listening);
    if (acceptor_) accept();
    if (udp_) receive();
    try {
      thread_ = std::thread([this] {
        try {
          io_.run();
        } catch (const std::exception& e) {
          log_.error("listener failed", log::kv("error", e.what()));
        }
      });
    } catch (const std::system_error& e) {
      return Status::unavailable("syslog input " + ctx.name() + ": cannot start its thread: " +
                                 e.what());
    }
    return Status::ok();
  }

  void stop() override {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
      boost::system::error_code ec;
      if (acceptor_) acceptor_->close(ec);
      if (udp_) udp_->close(ec);
      auto sessions = std::move(sessions_);
      sessions_.clear();
      for (const auto& s : sessions) s->shutdown();
      if (udp_stream_) udp_stream_->flush(true);
      io_.stop();
    });
    thread_.join();
    log_.info("input stopped",
              log::kv("messages", c_.frames->load()) + log::kv("garbage", c_.garbage->load()) +
                  log::kv("oversized", c_.oversized->load()) +
                  log::kv("incomplete", c_.incomplete->load()) +
                  log::kv("malformed", c_.malformed->load()) +
                  log::kv("rejected_connections", c_.rejected->load()) +
                  log::kv("rejected_per_address", c_.rejected_per_address->load()) +
                  log::kv("idle_closed", c_.idle_closed->load()) +
                  log::kv("tls_failures", c_.tls_failures->load()));
  }

  // Called by sessions on the io thread.
  void frames(StreamHandle& stream, syslog::Framer& framer, std::string_view data, bool eof,
              uint64_t* offset) {
    BatchPtr batch = stream.new_batch(64);
    const int64_t now = wall_now_ns();
    auto on_frame = [&](std::string_view f) { add(*batch, f, now); };
    auto on_error = [&](syslog::Framer::Error e) {
      if (e == syslog::Framer::Error::kOversized) {
        c_.oversized->fetch_add(1, std::memory_order_relaxed);
        warn("oversized frame skipped");
      } else {
        c_.incomplete->fetch_add(1, std::memory_order_relaxed);
        warn("connection closed inside a frame");
      }
    };
    if (eof) {
      framer.finish(on_frame, on_error);
    } else {
      framer.feed(data, on_frame, on_error);
    }
    *offset += data.size();
    if (batch->size() > 0) stream.emit(std::move(batch), Position{*offset, {}});
  }

  void closed(Session* s, const std::string& address) {
    if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
      per_address_.erase(it);
    }
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->get() == s) {
        sessions_.erase(it);
        return;
      }
    }
  }

  std::unique_ptr<StreamHandle> open_stream(const std::string& peer) {
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx_->name();
    src->key = "syslog:" + ctx_->name() + ":tcp:" + peer;
    src->tags.push_back(Tag{"source_address", ValueType::kString, peer});
    return ctx_->open_stream(std::move(src), /*checkpointed=*/false);
  }

  void warn(std::string_view what) {
    log_.warn(warn_log_, what);
  }

  // Expected events (idle connections closed), rate-limited at info level.
  void note(std::string_view what, const std::string& peer) {
    log_.info(note_log_, what, log::kv("peer", peer));
  }

  asio::io_context& io() { return io_; }
  const SyslogInputOptions& options() const { return o_; }
  Counters& counters() { return c_; }
  std::optional<asio::ssl::context>& tls() { return tls_; }

 private:
  void add(Batch& batch, std::string_view frame, int64_t now) {
    if (syslog::parse_message(frame, now, &parsed_) == syslog::ParseResult::kGarbage) {
      c_.garbage->fetch_add(1, std::memory_order_relaxed);
      warn("frame without a valid <PRI> skipped");
      return;
    }
    c_.frames->fetch_add(1, std::memory_order_relaxed);
    const syslog::ParsedMessage& m = parsed_;
    Event& e = batch.add_event();
    e.time_ns = m.time_ns != 0 ? m.time_ns : now;
    e.message = batch.copy(m.message);
    if (m.malformed) {
      e.flags |= kEventMalformed;
      c_.malformed->fetch_add(1, std::memory_order_relaxed);
    }
    e.fields.push_back(Field{"facility", Value::string(syslog::facility_name(m.facility))});
    e.fields.push_back(Field{"severity", Value::string(syslog::severity_name(m.severity))});
    auto opt = [&](std::string_view key, std::string_view v) {
      if (!v.empty()) e.fields.push_back(Field{key, Value::string(batch.copy(v))});
    };
    opt("hostname", m.hostname);
    opt("appname", m.app_name);
    opt("procid", m.procid);
    opt("msgid", m.msgid);
    for (const syslog::SdParam& p : m.sd) {
      key_.assign("sd.");
      key_.append(p.id);
      key_.push_back('.');
      key_.append(p.name);
      value_.clear();
      syslog::unescape_sd_value(p.value, &value_);
      e.fields.push_back(Field{batch.copy(key_), Value::string(batch.copy(value_))});
    }
  }

  void accept();
  void admit(tcp::socket sock);

  static std::string privileged_hint(uint16_t port) {
    if (!is_privileged_port(port)) return "";
    return " (ports below 1024 are bound when the daemon starts, before it drops privileges; "
           "a reload cannot add one: restart logship)";
  }

  void receive() {
    udp_->async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
      if (ec) return;   // closed
      BatchPtr batch = udp_stream_->new_batch(256);
      const int64_t now = wall_now_ns();
      // Drain what is queued into one batch: one emit per burst, not per datagram.
      for (int i = 0; i < 1024; ++i) {
        boost::system::error_code rec;
        udp::endpoint from;
        std::size_t n = udp_->receive_from(asio::buffer(udp_buf_), from, 0, rec);
        if (rec) break;
        udp_offset_ += n;
        if (n > o_.max_message_size.bytes) {
          c_.oversized->fetch_add(1, std::memory_order_relaxed);
          warn("oversized datagram skipped");
          continue;
        }
        std::string_view d(udp_buf_.data(), n);
        while (!d.empty() && (d.back() == '\n' || d.back() == '\r' || d.back() == '\0')) {
          d.remove_suffix(1);
        }
        add(*batch, d, now);
      }
      if (batch->size() > 0 && !udp_stream_->emit(std::move(batch), Position{udp_offset_, {}})) {
        return;
      }
      receive();
    });
  }

  SyslogInputOptions o_;
  InputContext* ctx_ = nullptr;
  Counters c_{};
  asio::io_context io_;
  std::optional<asio::ssl::context> tls_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<udp::socket> udp_;
  // The privileged sockets this input runs on (bound at daemon start): a reload that removes
  // the input lets them close.
  ListenSockets::Lease tcp_lease_, udp_lease_;
  std::unique_ptr<StreamHandle> udp_stream_;
  std::vector<char> udp_buf_;
  uint64_t udp_offset_ = 0;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::size_t> per_address_;   // open connections by address
  syslog::ParsedMessage parsed_;
  std::string key_;
  std::string value_;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", "syslog"}};   // named at start
  log::RateLimit warn_log_{5, std::chrono::seconds(10)};
  log::RateLimit note_log_{5, std::chrono::seconds(60)};
  asio::steady_timer accept_pause_{io_};
  std::thread thread_;
};

// One TCP or TLS connection. Sock is tcp::socket or ssl::stream<tcp::socket>.
template <class Sock>
class Connection final : public Session, public std::enable_shared_from_this<Connection<Sock>> {
 public:
  // The socket is built in place: Boost 1.74's ssl::stream does not survive a move intact.
  template <class... SockArgs>
  Connection(SyslogInput& owner, std::string address, std::string peer, SockArgs&&... sock_args)
      : owner_(owner),
        sock_(std::forward<SockArgs>(sock_args)...),
        address_(std::move(address)),
        peer_(std::move(peer)),
        framer_(owner.options().max_message_size.bytes),
        timer_(owner.io()),
        idle_timer_(owner.io()) {}

  void start() override {
    stream_ = owner_.open_stream(peer_);
    last_read_ = SteadyClock::now();
    watch_idle(owner_.options().idle_timeout);
    if constexpr (std::is_same_v<Sock, tcp::socket>) {
      read();
    } else {
      auto self = this->shared_from_this();
      timer_.expires_after(owner_.options().handshake_timeout);
      timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) {
          boost::system::error_code ignored;
          self->sock_.lowest_layer().close(ignored);
        }
      });
      sock_.async_handshake(asio::ssl::stream_base::server,
                            [self](const boost::system::error_code& ec) {
                              self->timer_.cancel();
                              if (ec) {
                                self->owner_.counters().tls_failures->fetch_add(1);
                                self->owner_.warn("tls handshake failed");
                                self->close(false);
                                return;
                              }
                              self->read();
                            });
    }
  }

  void shutdown() override { close(true); }

 private:
  void read() {
    auto self = this->shared_from_this();
    sock_.async_read_some(asio::buffer(buf_),
                          [self](const boost::system::error_code& ec, std::size_t n) {
                            if (self->closed_) return;
                            if (n > 0) {
                              self->last_read_ = SteadyClock::now();
                              self->owner_.frames(*self->stream_, self->framer_,
                                                  std::string_view(self->buf_.data(), n), false,
                                                  &self->offset_);
                              self->mem_.set(sizeof(self->buf_) + self->framer_.buffered());
                            }
                            if (ec) {
                              self->close(true);
                              return;
                            }
                            self->read();
                          });
  }

  // One timer per connection, re-armed only when it fires (not on every read): it closes the
  // connection once nothing was read for idle_timeout.
  void watch_idle(std::chrono::steady_clock::duration wait) {
    auto self = this->shared_from_this();
    idle_timer_.expires_after(wait);
    idle_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      const auto idle = self->owner_.options().idle_timeout;
      const auto quiet = SteadyClock::now() - self->last_read_;
      if (quiet < idle) {
        self->watch_idle(idle - quiet);
        return;
      }
      self->owner_.counters().idle_closed->fetch_add(1, std::memory_order_relaxed);
      self->owner_.note("connection idle for idle_timeout; closed", self->peer_);
      self->close(true);
    });
  }

  void close(bool flush) {
    if (closed_) return;
    closed_ = true;
    if (flush && stream_) {
      owner_.frames(*stream_, framer_, {}, true, &offset_);
      stream_->flush(true);
    }
    boost::system::error_code ignored;
    timer_.cancel();
    idle_timer_.cancel();
    sock_.lowest_layer().close(ignored);
    stream_.reset();
    owner_.closed(this, address_);
  }

  SyslogInput& owner_;
  Sock sock_;
  std::string address_;   // the peer's IP: the per-address budget's key
  std::string peer_;      // IP:port
  syslog::Framer framer_;
  asio::steady_timer timer_;
  asio::steady_timer idle_timer_;
  TimePoint last_read_{};
  std::unique_ptr<StreamHandle> stream_;
  std::array<char, 16 * 1024> buf_;
  MemoryCharge mem_{MemoryPart::kReadBuffers};   // buf_ and the framer's incomplete frame
  uint64_t offset_ = 0;
  bool closed_ = false;
};

// Keepalive probes find a peer that vanished (host down, NAT entry dropped) in about two
// minutes, without any traffic from it.
Status enable_keepalive(tcp::socket& sock) {
  const int fd = sock.native_handle();
  const int on = 1, idle_s = 60, interval_s = 10, probes = 6;
  if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s) != 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes) != 0) {
    return Status::io("setsockopt", errno);
  }
  return Status::ok();
}

void SyslogInput::accept() {
  acceptor_->async_accept([this](const boost::system::error_code& ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE) leaves the connection queued and the acceptor ready at
      // once: pause briefly instead of spinning on it.
      warn("accept failed: " + ec.message());
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](const boost::system::error_code& wec) {
        if (!wec && acceptor_->is_open()) accept();
      });
      return;
    }
    admit(std::move(sock));
    accept();
  });
}

void SyslogInput::admit(tcp::socket sock) {
  boost::system::error_code pec;
  auto ep = sock.remote_endpoint(pec);
  std::string address = pec ? "unknown" : ep.address().to_string();
  std::string peer = pec ? "unknown" : address + ":" + std::to_string(ep.port());
  std::size_t& from_here = per_address_[address];
  if (sessions_.size() >= static_cast<std::size_t>(o_.max_connections)) {
    c_.rejected->fetch_add(1, std::memory_order_relaxed);
    warn("too many connections; closing new one");
  } else if (from_here >= static_cast<std::size_t>(o_.max_connections_per_address)) {
    c_.rejected_per_address->fetch_add(1, std::memory_order_relaxed);
    warn("too many connections from " + address + "; closing new one");
  } else {
    // Without keepalive the connection still works; only a vanished peer is found later.
    if (Status st = enable_keepalive(sock); !st.is_ok()) {
      log_.debug("cannot enable TCP keepalive", log::kv("error", st.message()));
    }
    ++from_here;
    std::shared_ptr<Session> s;
    if (tls_) {
      s = std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(
          *this, address, peer, std::move(sock), *tls_);
    } else {
      s = std::make_shared<Connection<tcp::socket>>(*this, address, peer, std::move(sock));
    }
    sessions_.push_back(s);
    s->start();
    return;
  }
  if (from_here == 0) per_address_.erase(address);
  sock.close(pec);
}

}  // namespace

const PluginInfo& syslog_input() {
  static const PluginInfo info{
      PluginKind::kInput, "syslog",
      "Syslog server: UDP, TCP and TLS; RFC 5424, RFC 3164 and common variants.",
      &schema_of<SyslogInputOptions>, &bind_input<SyslogInputOptions, SyslogInput>};
  return info;
}

}  // namespace logship::plugins
