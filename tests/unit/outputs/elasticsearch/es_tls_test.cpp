// TLS verification of the elasticsearch output against a TLS server on 127.0.0.1 whose
// certificates are made by the openssl command line for each test run.
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gtest/gtest.h>

#include "outputs/elasticsearch/es_output.h"

namespace logship::plugins::es {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

class TlsServer {
 public:
  TlsServer(const std::string& cert, const std::string& key)
      : ctx_(ssl::context::tls_server), acceptor_(ioc_) {
    ctx_.use_certificate_chain_file(cert);
    ctx_.use_private_key_file(key, ssl::context::pem);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { loop(); });
  }
  ~TlsServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void loop() {
    for (;;) {
      tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec) return;
      timeval tv{5, 0};
      ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      beast::ssl_stream<tcp::socket> stream(std::move(sock), ctx_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec) continue;   // the client refused our certificate
      beast::flat_buffer buf;
      for (;;) {
        http::request<http::string_body> req;
        http::read(stream, buf, req, ec);
        if (ec) break;
        ++requests_;
        http::response<http::string_body> res{http::status::ok, 11};
        res.body() = "{\"errors\":false,\"items\":[]}";
        res.keep_alive(false);
        res.prepare_payload();
        http::write(stream, res, ec);
        break;
      }
    }
  }

  asio::io_context ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

class NullContext final : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return name_; }
  Status dead_letter(const Event&, const SourceInfo&, PermanentError, std::string_view) override {
    return Status::ok();
  }
  std::string name_ = "es";
};

class EsTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("logship-es-tls-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    for (auto [name, san] : {std::pair{"good", "IP:127.0.0.1"}, std::pair{"other", "DNS:other.example"}}) {
      std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=logship-test"
                        " -addext subjectAltName=" + std::string(san) + " -keyout " + *dir_ + "/" +
                        name + ".key -out " + *dir_ + "/" + name + ".pem >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string file(const std::string& n) { return *dir_ + "/" + n; }

  DeliveryResult deliver(const EsOptions& o) {
    NullContext ctx;
    EsOutput out(o);
    Status st = out.start(ctx);
    if (!st.is_ok()) return DeliveryResult::retry("start: " + st.message());
    auto src = std::make_shared<SourceInfo>();
    src->key = "k";
    auto b = std::make_shared<Batch>(src);
    Event& e = b->add_event();
    e.message = "x";
    std::promise<DeliveryResult> p;
    out.deliver(std::vector<SharedBatch>{b}, [&](DeliveryResult r) { p.set_value(std::move(r)); });
    auto f = p.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    DeliveryResult r = f.get();
    out.stop();
    return r;
  }
  EsOptions options(const std::string& url) {
    EsOptions o;
    o.hosts = {url};
    o.index = "t";
    o.max_in_flight = 1;
    o.connect_timeout = config::Millis(3000);
    o.timeout = config::Millis(3000);
    return o;
  }
  static std::string* dir_;
};
std::string* EsTls::dir_ = nullptr;

TEST_F(EsTls, VerifiedWithTheRightCa) {
  TlsServer server(file("good.pem"), file("good.key"));
  EsOptions o = options(server.url());
  o.tls_ca_file = file("good.pem");
  DeliveryResult r = deliver(o);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(EsTls, UnknownIssuerIsRefusedByDefault) {
  TlsServer server(file("good.pem"), file("good.key"));
  DeliveryResult r = deliver(options(server.url()));   // system trust store only
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("TLS handshake"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("certificate"), std::string::npos) << r.reason;
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(EsTls, WrongHostNameIsRefusedEvenWithTheRightCa) {
  TlsServer server(file("other.pem"), file("other.key"));
  EsOptions o = options(server.url());
  o.tls_ca_file = file("other.pem");
  DeliveryResult r = deliver(o);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("certificate"), std::string::npos) << r.reason;
  EXPECT_EQ(server.requests(), 0);

  o.tls_verify = false;
  r = deliver(o);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(EsTls, MissingCaFileFailsAtStart) {
  EsOptions o = options("https://127.0.0.1:1");
  o.tls_ca_file = file("nope.pem");
  DeliveryResult r = deliver(o);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_TRUE(r.reason.starts_with("start: ")) << r.reason;
  EXPECT_NE(r.reason.find("tls_ca_file"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace logship::plugins::es
