#include "outputs/elasticsearch/http_client.h"

#include <openssl/evp.h>
#include <time.h>

#include <cstring>
#include <ctime>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>

namespace logship::plugins::es {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

int64_t parse_retry_after(std::string_view v, std::time_t now) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty() || v.size() > 40) return -1;
  if (v.front() >= '0' && v.front() <= '9') {
    if (v.size() > 9) return -1;
    int64_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  // An HTTP date (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT"; a past one is 0.
  char buf[41];
  std::memcpy(buf, v.data(), v.size());
  buf[v.size()] = '\0';
  struct tm tm {};
  const char* end = ::strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return -1;
  const std::time_t at = ::timegm(&tm);
  if (at == static_cast<std::time_t>(-1)) return -1;
  return at > now ? static_cast<int64_t>(at - now) : 0;
}

int64_t parse_retry_after(std::string_view v) { return parse_retry_after(v, std::time(nullptr)); }

Result<HostUrl> parse_host_url(std::string_view url) {
  HostUrl h;
  std::string_view rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    h.tls = true;
    rest = url.substr(8);
  } else {
    return Status::invalid("host '" + std::string(url) + "' must start with http:// or https://");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    h.path_prefix = std::string(prefix);
  }
  if (authority.find('@') != std::string_view::npos) {
    return Status::invalid("host URLs must not hold credentials: use username/password or api_key");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::invalid("host '" + std::string(url) + "': unterminated IPv6 address");
    }
    h.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else {
    std::size_t colon = authority.rfind(':');
    h.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (h.host.empty()) {
    return Status::invalid("host '" + std::string(url) + "' has no host name");
  }
  for (char c : port) {
    if (c < '0' || c > '9') {
      return Status::invalid("host '" + std::string(url) + "' has a bad port");
    }
  }
  h.port = port.empty() ? "9200" : std::string(port);
  std::string bracketed = h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host;
  h.host_header = bracketed + ":" + h.port;
  h.display = std::string(h.tls ? "https://" : "http://") + h.host_header + h.path_prefix;
  return h;
}

Status make_tls_context(const TlsOptions& o, std::unique_ptr<asio::ssl::context>* out) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1,
                   ec);
  if (o.verify) {
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!o.ca_file.empty()) {
      ctx->load_verify_file(o.ca_file, ec);
      if (ec) return Status::invalid("tls_ca_file " + o.ca_file + ": " + ec.message());
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Status::invalid("cannot load the system trust store: " + ec.message());
    }
  } else {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!o.cert_file.empty()) {
    ctx->use_certificate_chain_file(o.cert_file, ec);
    if (ec) return Status::invalid("tls_cert_file " + o.cert_file + ": " + ec.message());
    ctx->use_private_key_file(o.key_file.empty() ? o.cert_file : o.key_file,
                              asio::ssl::context::pem, ec);
    if (ec) return Status::invalid("tls_key_file: " + ec.message());
  }
  *out = std::move(ctx);
  return Status::ok();
}

HttpConnection::HttpConnection(asio::ssl::context* tls, bool verify,
                               std::chrono::milliseconds connect_timeout,
                               std::chrono::milliseconds request_timeout)
    : tls_ctx_(tls),
      verify_(verify),
      connect_timeout_(connect_timeout),
      request_timeout_(request_timeout) {}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::close() {
  beast::error_code ec;
  if (tls_) {
    beast::get_lowest_layer(*tls_).socket().close(ec);
    tls_.reset();
  }
  if (tcp_) {
    tcp_->socket().close(ec);
    tcp_.reset();
  }
  buffer_.clear();
  connected_to_ = nullptr;
}

void HttpConnection::abort() {
  aborted_.store(true);
  // Runs on the sender's thread inside run(): cancels the pending operation.
  asio::post(ioc_, [this] {
    beast::error_code ec;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ec);
    if (tcp_) tcp_->socket().close(ec);
  });
  ioc_.stop();
}

void HttpConnection::run() {
  if (aborted_.load()) {
    // Let the pending handler see a closed socket, then finish it.
    beast::error_code ec;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ec);
    if (tcp_) tcp_->socket().close(ec);
  }
  ioc_.restart();
  ioc_.run();
  if (aborted_.load()) {
    // stop() may have left the handler pending: close and drain so it runs before we return.
    beast::error_code ec;
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ec);
    if (tcp_) tcp_->socket().close(ec);
    ioc_.restart();
    ioc_.run();
  }
}

Status HttpConnection::connect(const HostUrl& host) {
  close();
  tcp::resolver resolver(ioc_);
  beast::error_code ec;
  tcp::resolver::results_type endpoints;
  // Through a proxy the TCP connection goes to the proxy.
  const std::string& to_host = host.proxy ? host.proxy->host : host.host;
  const std::string& to_port = host.proxy ? host.proxy->port : host.port;
  const std::string to_display =
      host.proxy ? host.proxy->display + " (proxy for " + host.display + ")" : host.display;
  resolver.async_resolve(to_host, to_port,
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                         });
  run();
  if (ec || aborted_.load()) {
    return Status::unavailable("resolve " + to_display + ": " + (ec ? ec.message() : "aborted"));
  }
  beast::tcp_stream* lowest;
  if (host.tls) {
    if (tls_ctx_ == nullptr) {
      return Status::internal("TLS host but no TLS context");
    }
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_ctx_);
    lowest = &beast::get_lowest_layer(*tls_);
  } else {
    tcp_ = std::make_unique<beast::tcp_stream>(ioc_);
    lowest = tcp_.get();
  }
  lowest->expires_after(connect_timeout_);
  ec = {};
  lowest->async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec || aborted_.load()) {
    close();
    return Status::unavailable("connect " + to_display + ": " + (ec ? ec.message() : "aborted"));
  }
  lowest->socket().set_option(tcp::no_delay(true), ec);
  if (host.proxy && host.tls) {
    if (Status s = tunnel(host); !s.is_ok()) {
      close();
      return s;
    }
  }
  if (host.tls) {
    SSL* ssl = tls_->native_handle();
    // SNI only for names, not addresses (RFC 6066).
    beast::error_code addr_ec;
    asio::ip::make_address(host.host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(ssl, host.host.c_str());
    if (verify_) {
      if (!addr_ec) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.host.c_str());
      } else {
        SSL_set1_host(ssl, host.host.c_str());
      }
    }
    lowest->expires_after(connect_timeout_);
    ec = {};
    tls_->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    run();
    if (ec || aborted_.load()) {
      std::string why = ec ? ec.message() : "aborted";
      long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        why += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      }
      close();
      return Status::unavailable("TLS handshake with " + host.display + ": " + why);
    }
  }
  connected_to_ = &host;
  return Status::ok();
}

Status HttpConnection::tunnel(const HostUrl& host) {
  beast::tcp_stream& lowest = beast::get_lowest_layer(*tls_);
  const std::string authority = host.host_header;
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "logship/" LOGSHIP_VERSION);
  if (!host.proxy->authorization.empty()) {
    req.set(http::field::proxy_authorization, host.proxy->authorization);
  }
  beast::error_code ec;
  lowest.expires_after(connect_timeout_);
  http::async_write(lowest, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run();
  const std::string where = "CONNECT " + authority + " through " + host.proxy->display;
  if (ec || aborted_.load()) {
    return Status::unavailable(where + ": " + (ec ? ec.message() : "aborted"));
  }
  // A 2xx answer to CONNECT has no body whatever its headers say; the tunnel starts after it.
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  beast::flat_buffer buf;
  lowest.expires_after(connect_timeout_);
  http::async_read_header(lowest, buf, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  run();
  if (ec || aborted_.load()) {
    return Status::unavailable(where + ": " + (ec ? ec.message() : "aborted"));
  }
  const unsigned status = parser.get().result_int();
  if (status < 200 || status >= 300) {
    return Status::unavailable(
        where + ": HTTP " + std::to_string(status) +
        (status == 407 ? " (proxy authentication required: check proxy_credentials_file)" : ""));
  }
  if (buf.size() != 0) {
    return Status::unavailable(where + ": the proxy sent data before the TLS handshake");
  }
  return Status::ok();
}

HttpResult HttpConnection::exchange(http::request<http::string_body>& req) {
  HttpResult r;
  beast::error_code ec;
  beast::tcp_stream& lowest = tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
  lowest.expires_after(request_timeout_);
  auto on_write = [&](beast::error_code e, std::size_t) { ec = e; };
  if (tls_) {
    http::async_write(*tls_, req, on_write);
  } else {
    http::async_write(*tcp_, req, on_write);
  }
  run();
  if (ec || aborted_.load()) {
    r.kind = aborted_.load() ? HttpResult::Kind::kAborted : HttpResult::Kind::kIoFailed;
    r.error = "write: " + (ec ? ec.message() : std::string("aborted"));
    return r;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(256u << 20);
  ec = {};
  auto on_read = [&](beast::error_code e, std::size_t) { ec = e; };
  if (tls_) {
    http::async_read(*tls_, buffer_, parser, on_read);
  } else {
    http::async_read(*tcp_, buffer_, parser, on_read);
  }
  run();
  if (ec || aborted_.load()) {
    r.kind = aborted_.load() ? HttpResult::Kind::kAborted : HttpResult::Kind::kIoFailed;
    r.error = "read: " + (ec ? ec.message() : std::string("aborted"));
    return r;
  }
  auto res = parser.release();
  r.status = static_cast<int>(res.result_int());
  if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
    r.retry_after_seconds = parse_retry_after(std::string_view(ra->value().data(), ra->value().size()));
  }
  r.body = std::move(res.body());
  if (!res.keep_alive()) close();
  return r;
}

HttpResult HttpConnection::send(const HostUrl& host, http::request<http::string_body>& req) {
  HttpResult r;
  if (aborted_.load()) {
    r.kind = HttpResult::Kind::kAborted;
    r.error = "aborted";
    return r;
  }
  bool reused = connected_to_ == &host;
  if (!reused) {
    if (Status s = connect(host); !s.is_ok()) {
      r.kind = aborted_.load() ? HttpResult::Kind::kAborted : HttpResult::Kind::kConnectFailed;
      r.error = s.message();
      return r;
    }
  }
  // Through a proxy, a plain-http request names the whole URL (absolute form) and carries the
  // proxy's credentials; the request is given back as it came.
  std::string origin_target;
  const bool absolute = host.proxy && !host.tls;
  if (absolute) {
    origin_target = std::string(req.target());
    req.target("http://" + host.host_header + origin_target);
    if (!host.proxy->authorization.empty()) {
      req.set(http::field::proxy_authorization, host.proxy->authorization);
    }
  }
  struct Restore {
    http::request<http::string_body>& req;
    const std::string& target;
    bool active;
    ~Restore() {
      if (!active) return;
      req.target(target);
      req.erase(http::field::proxy_authorization);
    }
  } restore{req, origin_target, absolute};
  r = exchange(req);
  if (r.kind == HttpResult::Kind::kIoFailed) {
    close();
    if (reused && !aborted_.load()) {
      if (Status s = connect(host); !s.is_ok()) {
        r.kind = HttpResult::Kind::kConnectFailed;
        r.error = s.message();
        return r;
      }
      r = exchange(req);
      if (r.kind != HttpResult::Kind::kOk) close();
    }
  }
  if (r.kind != HttpResult::Kind::kOk && !r.error.empty()) r.error = host.display + ": " + r.error;
  return r;
}

Gzip::Gzip(int level) {
  ok_ = deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

Gzip::~Gzip() {
  if (ok_) deflateEnd(&zs_);
}

bool Gzip::compress(std::string_view in, std::string* out) {
  if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
  out->resize(deflateBound(&zs_, static_cast<uLong>(in.size())) + 32);
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_.avail_in = static_cast<uInt>(in.size());
  zs_.next_out = reinterpret_cast<Bytef*>(out->data());
  zs_.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs_, Z_FINISH);
  if (rc != Z_STREAM_END) return false;
  out->resize(out->size() - zs_.avail_out);
  return true;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace logship::plugins::es
