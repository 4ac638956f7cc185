#pragma once
// A keep-alive HTTP/1.1 client connection (plain or TLS) with timeouts, for one sender thread.
// Each connection owns its io_context: the sender runs one operation at a time to completion,
// which keeps the control flow of per-item retries plain while several connections (one per
// sender thread) give requests in flight. abort() may be called from any thread.
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <zlib.h>

#include "daemon/core/status.h"
#include "outputs/elasticsearch/proxy.h"

namespace logship::plugins::es {

struct HostUrl {
  bool tls = false;
  std::string host;          // name or address, without brackets
  std::string port;
  std::string path_prefix;   // "" or "/prefix" without trailing '/'
  std::string host_header;   // host[:port] as sent in Host
  std::string display;       // scheme://host:port/prefix, for logs
  std::shared_ptr<const Proxy> proxy;   // reached through this proxy; nullptr: directly
};
// "http(s)://host[:port][/prefix]"; no credentials in the URL (they would end up in logs).
Result<HostUrl> parse_host_url(std::string_view url);

struct TlsOptions {
  std::string ca_file;     // empty: the system's trust store
  std::string cert_file;   // client certificate (PEM), optional
  std::string key_file;
  bool verify = true;      // certificate chain and host name
};
// The shared TLS context of an output (SSL_CTX may be used by several connections at once).
Status make_tls_context(const TlsOptions& o, std::unique_ptr<boost::asio::ssl::context>* out);

struct HttpResult {
  enum class Kind { kOk, kConnectFailed, kIoFailed, kAborted } kind = Kind::kOk;
  int status = 0;
  int64_t retry_after_seconds = -1;   // Retry-After as seconds from now; -1: none or unreadable
  std::string body;
  std::string error;   // for the failure kinds
};

// Retry-After (RFC 9110): delta-seconds, or an HTTP date as seconds from `now` (0 if past);
// -1 for anything else.
int64_t parse_retry_after(std::string_view v, std::time_t now);
int64_t parse_retry_after(std::string_view v);

class HttpConnection {
 public:
  HttpConnection(boost::asio::ssl::context* tls, bool verify, std::chrono::milliseconds connect_timeout,
                 std::chrono::milliseconds request_timeout);
  ~HttpConnection();

  // Sends `req` to `host`, reusing the open connection when it goes there. A request that fails
  // on a reused connection before any response byte is sent once more on a fresh one (the
  // server may have closed an idle keep-alive connection).
  HttpResult send(const HostUrl& host, boost::beast::http::request<boost::beast::http::string_body>& req);
  void close();
  // Makes the current and every later send() return kAborted soon.
  void abort();

 private:
  Status connect(const HostUrl& host);
  // CONNECT host:port through the proxy the socket is connected to (for an https node).
  Status tunnel(const HostUrl& host);
  HttpResult exchange(boost::beast::http::request<boost::beast::http::string_body>& req);
  // Runs the io_context until the started operation completes (or abort()).
  void run();

  boost::asio::io_context ioc_;
  boost::asio::ssl::context* const tls_ctx_;
  const bool verify_;
  const std::chrono::milliseconds connect_timeout_;
  const std::chrono::milliseconds request_timeout_;
  std::unique_ptr<boost::beast::tcp_stream> tcp_;
  std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  boost::beast::flat_buffer buffer_;
  const HostUrl* connected_to_ = nullptr;
  std::atomic<bool> aborted_{false};
};

// gzip (RFC 1952) of a whole request body; the z_stream is reused across requests.
class Gzip {
 public:
  explicit Gzip(int level);
  ~Gzip();
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;
  bool compress(std::string_view in, std::string* out);

 private:
  z_stream zs_{};
  bool ok_ = false;
};

// Standard base64 (for the Basic authorization header).
std::string base64(std::string_view in);

}  // namespace logship::plugins::es
