#pragma once
// A blocking client connection to a syslog server over UDP, TCP or TLS (RFC 5425), with every
// operation bounded by a deadline. Plain OpenSSL on a non-blocking socket rather than
// Boost.Asio ssl: Asio's synchronous operations take no timeouts, and the output needs nothing
// but connect, write with a deadline and a cheap "did the peer close?" check.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace logship::syslog {

enum class Transport { kUdp, kTcp, kTls };

struct TlsSettings {
  bool verify = true;
  std::string ca_file;        // empty: the system's default CA paths
  std::string cert_file;      // client certificate (optional)
  std::string key_file;
  std::string server_name;    // name to verify and send as SNI; empty: the host
};

class Connection {
 public:
  Connection(Transport t, std::string host, uint16_t port, TlsSettings tls);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Builds the TLS context (certificates are read here so bad paths are reported at start).
  Status init();
  bool connected() const { return fd_ >= 0; }
  Status connect(std::chrono::milliseconds timeout);
  // Writes all of `data` (one datagram for UDP). On failure the connection is closed.
  Status write(std::string_view data, std::chrono::milliseconds timeout);
  // Reads what the server sent, up to `cap` bytes, waiting until `deadline` for the first one
  // (a past deadline = a non-blocking check). OK with *got == 0 means nothing arrived in time.
  // End of stream or an error: unavailable, and the connection is closed.
  Status read_some(char* buf, std::size_t cap, std::size_t* got,
                   std::chrono::steady_clock::time_point deadline);
  // True when the server closed the connection or it failed (checked without blocking).
  // Discards what the server sent: only for protocols where the server sends nothing.
  bool peer_closed();
  void close();
  // Ends the connection in order: close_notify (TLS), FIN, then waits up to `timeout` for the
  // server's own close, which it sends after reading everything we wrote. Closing with unread
  // bytes (e.g. TLS 1.3 session tickets) would send a RST, and a RST makes the server's kernel
  // drop what the server has not read yet.
  void close_gracefully(std::chrono::milliseconds timeout);

 private:
  Status handshake(std::chrono::steady_clock::time_point deadline);
  bool wait(short events, std::chrono::steady_clock::time_point deadline);

  Transport transport_;
  std::string host_;
  uint16_t port_;
  TlsSettings tls_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
};

}  // namespace logship::syslog
