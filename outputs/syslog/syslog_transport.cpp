#include "outputs/syslog/syslog_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace logship::syslog {
namespace {

using Clock = std::chrono::steady_clock;

std::string ssl_error_text() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

Connection::Connection(Transport t, std::string host, uint16_t port, TlsSettings tls)
    : transport_(t), host_(std::move(host)), port_(port), tls_(std::move(tls)) {}

Connection::~Connection() {
  close();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

Status Connection::init() {
  if (transport_ != Transport::kTls) return Status::ok();
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) return Status::internal("SSL_CTX_new: " + ssl_error_text());
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (tls_.verify) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    int ok = tls_.ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx_)
                 : SSL_CTX_load_verify_locations(ctx_, tls_.ca_file.c_str(), nullptr);
    if (ok != 1) return Status::invalid("tls ca_file " + tls_.ca_file + ": " + ssl_error_text());
  } else {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  if (!tls_.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, tls_.cert_file.c_str()) != 1) {
      return Status::invalid("tls cert_file " + tls_.cert_file + ": " + ssl_error_text());
    }
    const std::string& key = tls_.key_file.empty() ? tls_.cert_file : tls_.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx_) != 1) {
      // The key's path is configuration, its content is secret: never print the content.
      return Status::invalid("tls key_file " + key + ": cannot load or does not match");
    }
  }
  return Status::ok();
}

bool Connection::wait(short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

Status Connection::connect(std::chrono::milliseconds timeout) {
  close();
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = transport_ == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  int gai = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) return Status::unavailable("resolve " + host_ + ": " + gai_strerror(gai));
  Status last = Status::unavailable("no address for " + host_);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      last = Status::io("socket", errno);
      continue;
    }
    if (transport_ != Transport::kUdp) {
      int one = 1;
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    int r = ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      if (!wait(POLLOUT, deadline)) {
        last = Status::unavailable("connect " + host_ + ":" + port + ": timed out");
        close();
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r != 0) {
      last = Status::io("connect " + host_ + ":" + port, errno);
      close();
      continue;
    }
    last = Status::ok();
    break;
  }
  ::freeaddrinfo(res);
  if (!last.is_ok()) return last;
  if (transport_ == Transport::kTls) {
    Status s = handshake(deadline);
    if (!s.is_ok()) {
      close();
      return s;
    }
  }
  return Status::ok();
}

Status Connection::handshake(Clock::time_point deadline) {
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr) return Status::internal("SSL_new: " + ssl_error_text());
  SSL_set_fd(ssl_, fd_);
  const std::string& name = tls_.server_name.empty() ? host_ : tls_.server_name;
  if (!is_ip_literal(name)) SSL_set_tlsext_host_name(ssl_, name.c_str());
  if (tls_.verify) {
    // Checks the certificate names the server we meant, not just any server the CA signed.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    if (ok != 1) return Status::invalid("tls server name " + name + " not usable");
  }
  while (true) {
    ERR_clear_error();
    int r = SSL_connect(ssl_);
    if (r == 1) return Status::ok();
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return Status::unavailable("tls handshake with " + host_ + ": timed out");
      }
      continue;
    }
    std::string why = ssl_error_text();
    long vr = SSL_get_verify_result(ssl_);
    if (vr != X509_V_OK) why = std::string("certificate verify failed: ") +
                               X509_verify_cert_error_string(vr);
    return Status::unavailable("tls handshake with " + host_ + ": " + why);
  }
}

Status Connection::write(std::string_view data, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return Status::unavailable("not connected");
  const auto deadline = Clock::now() + timeout;
  std::size_t done = 0;
  if (transport_ == Transport::kUdp) {
    // A refused earlier datagram reports ECONNREFUSED on a later send; that one was not sent.
    for (int attempt = 0; attempt < 3; ++attempt) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) return Status::ok();
      if (errno == EAGAIN || errno == ENOBUFS) {
        if (!wait(POLLOUT, deadline)) return Status::unavailable("udp send timed out");
        continue;
      }
      if (errno == ECONNREFUSED || errno == EINTR) continue;
      Status s = Status::io("udp send", errno);
      close();
      return s;
    }
    return Status::unavailable("udp send refused");
  }
  while (done < data.size()) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      std::size_t written = 0;
      int r = SSL_write_ex(ssl_, data.data() + done, data.size() - done, &written);
      if (r == 1) {
        done += written;
        continue;
      }
      int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          close();
          return Status::unavailable("tls write timed out");
        }
        continue;
      }
      Status s = Status::unavailable("tls write: " + ssl_error_text());
      close();
      return s;
    }
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      // The server reads slower than we write: wait (backpressure), bounded by the timeout.
      if (!wait(POLLOUT, deadline)) {
        close();
        return Status::unavailable("tcp write timed out");
      }
      continue;
    }
    Status s = Status::io("tcp send", errno);
    close();
    return s;
  }
  return Status::ok();
}

Status Connection::read_some(char* buf, std::size_t cap, std::size_t* got,
                             Clock::time_point deadline) {
  *got = 0;
  if (fd_ < 0) return Status::unavailable("not connected");
  // A request/reply peer that writes small replies with Nagle on (librelp does) holds the next
  // reply until this one is ACKed; a delayed ACK would stall each exchange for up to 40 ms.
  // Quick-ack mode is not sticky, hence set before every read.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  while (true) {
    if (ssl_ != nullptr) {
      ERR_clear_error();
      std::size_t n = 0;
      int r = SSL_read_ex(ssl_, buf, cap, &n);
      if (r == 1) {
        *got = n;
        return Status::ok();
      }
      int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return Status::ok();
        continue;
      }
      Status s = err == SSL_ERROR_ZERO_RETURN
                     ? Status::unavailable("connection closed by the server")
                     : Status::unavailable("tls read: " + ssl_error_text());
      close();
      return s;
    }
    ssize_t n = ::recv(fd_, buf, cap, MSG_DONTWAIT);
    if (n > 0) {
      *got = static_cast<std::size_t>(n);
      return Status::ok();
    }
    if (n == 0) {
      close();
      return Status::unavailable("connection closed by the server");
    }
    if (errno == EAGAIN || errno == EINTR) {
      if (!wait(POLLIN, deadline)) return Status::ok();
      continue;
    }
    Status s = Status::io("tcp recv", errno);
    close();
    return s;
  }
}

bool Connection::peer_closed() {
  if (fd_ < 0) return true;
  if (transport_ == Transport::kUdp) return false;
  pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
  if (!(p.revents & POLLIN)) return false;
  // Syslog servers send nothing; readable means EOF, an error, or TLS session tickets.
  char buf[4096];
  if (ssl_ != nullptr) {
    while (true) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) continue;
      int err = SSL_get_error(ssl_, r);
      return !(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE);
    }
  }
  ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return !(errno == EAGAIN || errno == EINTR);
  return false;
}

void Connection::close_gracefully(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return;
  if (transport_ != Transport::kUdp) {
    const auto deadline = Clock::now() + timeout;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      SSL_shutdown(ssl_);   // one close_notify; the server's reply is read below as bytes
    }
    ::shutdown(fd_, SHUT_WR);
    char buf[4096];
    while (wait(POLLIN, deadline)) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    }
  }
  close();
}

void Connection::close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace logship::syslog
