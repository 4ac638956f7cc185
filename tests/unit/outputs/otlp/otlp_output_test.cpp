// The otlp output's answers to a scripted OTLP/HTTP receiver on 127.0.0.1: partial success,
// 400, 413, 429 with Retry-After, the core's retry resuming where the delivery stopped.
#include "outputs/otlp/otlp_output.h"

#include <sys/socket.h>
#include <zlib.h>

#include <future>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "tests/unit/outputs/otlp/otlp_test_support.h"

namespace logship::plugins::otlp {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace testing;

std::string gunzip(const std::string& in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "<bad gzip>";
}

struct Received {
  std::string target, content_type, encoding, api_key;
  std::vector<std::string> bodies;   // record bodies, in order
  std::chrono::steady_clock::time_point at;
};

struct Reply {
  Reply(int s = 200, std::string b = "", std::string ra = "")
      : status(s), body(std::move(b)), retry_after(std::move(ra)) {}
  int status;
  std::string body;
  std::string retry_after;
};

// Answers each request with script(n, request), n counting from 0; one thread per connection.
class FakeReceiver {
 public:
  using Script = std::function<Reply(int, const Received&)>;
  explicit FakeReceiver(Script script) : script_(std::move(script)), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~FakeReceiver() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Received> requests() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void accept_loop() {
    for (;;) {
      auto sock = std::make_unique<tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*sock, ec);
      if (ec) return;
      std::lock_guard lock(mu_);
      tcp::socket* s = sock.get();
      sockets_.push_back(std::move(sock));
      threads_.emplace_back([this, s] { serve(*s); });
    }
  }
  void serve(tcp::socket& sock) {
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(sock, buf, req, ec);
      if (ec) return;
      Received r;
      r.at = std::chrono::steady_clock::now();
      r.target = std::string(req.target());
      r.content_type = std::string(req[http::field::content_type]);
      r.encoding = std::string(req[http::field::content_encoding]);
      r.api_key = std::string(req["x-api-key"]);
      const std::string body = r.encoding == "gzip" ? gunzip(req.body()) : req.body();
      for (const auto& rl : decode_request(body)) {
        for (const auto& rec : rl.records) r.bodies.push_back(any_text(pb_find(pb(rec), 5)->bytes));
      }
      int n;
      {
        std::lock_guard lock(mu_);
        n = static_cast<int>(received_.size());
        received_.push_back(r);
      }
      Reply reply = script_(n, r);
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/x-protobuf");
      if (!reply.retry_after.empty()) res.set(http::field::retry_after, reply.retry_after);
      res.body() = reply.body;
      res.keep_alive(true);
      res.prepare_payload();
      http::write(sock, res, ec);
      if (ec) return;
    }
  }

  Script script_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::unique_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::vector<Received> received_;
};

class FakeContext final : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return dir_; }
  Status dead_letter(const Event& e, const SourceInfo&, PermanentError why,
                     std::string_view reason) override {
    std::lock_guard lock(mu);
    dead.push_back({std::string(e.message), std::string(permanent_error_name(why)), std::string(reason)});
    return Status::ok();
  }
  struct Dead {
    std::string message, error, reason;
  };
  std::mutex mu;
  std::vector<Dead> dead;

 private:
  std::string name_ = "otlp";
  std::string dir_ = "/tmp";
};

SharedBatch make_batch(int n, const std::string& prefix = "m") {
  auto src = std::make_shared<SourceInfo>();
  src->input = "gen";
  src->key = prefix;
  auto b = std::make_shared<Batch>(src);
  for (int i = 0; i < n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1714557600000000000 + i;
    e.message = b->copy(prefix + std::to_string(i));
  }
  return b;
}

std::vector<std::string> names(const std::string& prefix, int from, int to) {
  std::vector<std::string> r;
  for (int i = from; i < to; ++i) r.push_back(prefix + std::to_string(i));
  return r;
}

OtlpOptions base_options(const std::string& url) {
  OtlpOptions o;
  o.endpoint = url;
  o.max_in_flight = 1;
  o.retries = 3;
  o.retry_initial = config::Millis(1);
  o.retry_max = config::Millis(5000);
  o.timeout = config::Millis(5000);
  o.connect_timeout = config::Millis(2000);
  return o;
}

DeliveryResult deliver_and_wait(OtlpOutput& out, std::vector<SharedBatch> batches) {
  std::promise<DeliveryResult> p;
  auto f = p.get_future();
  out.deliver(batches, [&p](DeliveryResult r) { p.set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    ADD_FAILURE() << "delivery did not finish";
    out.stop();
  }
  return f.get();
}

// ExportLogsServiceResponse{partial_success{rejected_log_records: n, error_message: m}}.
std::string partial_success(int n, const std::string& m) {
  std::string ps = std::string("\x08", 1) + static_cast<char>(n) + "\x12" + static_cast<char>(m.size()) + m;
  return "\x0a" + std::string(1, static_cast<char>(ps.size())) + ps;
}

TEST(OtlpOutput, PartialSuccessDeadLettersExactlyTheRejectedCount) {
  FakeReceiver server([](int n, const Received&) {
    return n == 0 ? Reply{200, partial_success(2, "2 records exceed the size limit")} : Reply{200, ""};
  });
  FakeContext ctx;
  OtlpOptions o = base_options(server.url());
  o.headers = {{"x-api-key", "k1"}};
  OtlpOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(5)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);   // nothing resent
  EXPECT_EQ(reqs[0].target, "/v1/logs");
  EXPECT_EQ(reqs[0].content_type, "application/x-protobuf");
  EXPECT_EQ(reqs[0].encoding, "gzip");
  EXPECT_EQ(reqs[0].api_key, "k1");
  EXPECT_EQ(reqs[0].bodies, names("m", 0, 5));
  // OTLP does not name the records: the request's last two are dead-lettered.
  ASSERT_EQ(ctx.dead.size(), 2u);
  EXPECT_EQ(ctx.dead[0].message, "m3");
  EXPECT_EQ(ctx.dead[1].message, "m4");
  EXPECT_EQ(ctx.dead[0].error, "rejected");
  EXPECT_EQ(ctx.dead[0].reason, "partial success: 2 of 5 records rejected: 2 records exceed the size limit");
}

TEST(OtlpOutput, BadRequestDeadLettersTheRequestAndGoesOn) {
  FakeReceiver server([](int n, const Received&) {
    return n == 0 ? Reply{400, "bad field"} : Reply{200, ""};
  });
  FakeContext ctx;
  OtlpOptions o = base_options(server.url());
  o.batch_max_events = 3;
  OtlpOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(5)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].bodies, names("m", 3, 5));
  ASSERT_EQ(ctx.dead.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ctx.dead[i].message, "m" + std::to_string(i));
    EXPECT_EQ(ctx.dead[i].error, "rejected");
    EXPECT_EQ(ctx.dead[i].reason, "HTTP 400: bad field");
  }
}

TEST(OtlpOutput, TooLargeSplitsDownToOneRecordThenDeadLetters) {
  FakeReceiver server([](int, const Received& r) {
    for (const auto& b : r.bodies) {
      if (b == "m2") return Reply{413, ""};
    }
    return Reply{200, ""};
  });
  FakeContext ctx;
  OtlpOutput out(base_options(server.url()));
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(4)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  std::vector<std::string> accepted;
  for (const auto& q : server.requests()) {
    if (q.bodies.size() == 1 && q.bodies[0] == "m2") continue;
    bool has_m2 = false;
    for (const auto& b : q.bodies) has_m2 |= b == "m2";
    if (!has_m2) accepted.insert(accepted.end(), q.bodies.begin(), q.bodies.end());
  }
  EXPECT_EQ(accepted, (std::vector<std::string>{"m0", "m1", "m3"}));
  ASSERT_EQ(ctx.dead.size(), 1u);
  EXPECT_EQ(ctx.dead[0].message, "m2");
  EXPECT_EQ(ctx.dead[0].error, "too_large");
}

TEST(OtlpOutput, BusyAnswersAreResentAfterRetryAfter) {
  for (int status : {429, 502, 503, 504}) {
    FakeReceiver server([status](int n, const Received&) {
      return n == 0 ? Reply{status, "", "1"} : Reply{200, ""};
    });
    FakeContext ctx;
    OtlpOutput out(base_options(server.url()));
    ASSERT_TRUE(out.start(ctx).is_ok());
    DeliveryResult r = deliver_and_wait(out, {make_batch(2)});
    out.stop();
    EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << status << r.reason;
    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u) << status;
    EXPECT_EQ(reqs[1].bodies, names("m", 0, 2));
    // Retry-After: 1 (seconds) was honoured, not the 1 ms backoff.
    EXPECT_GE(reqs[1].at - reqs[0].at, std::chrono::milliseconds(950)) << status;
    EXPECT_TRUE(ctx.dead.empty());
  }
}

TEST(OtlpOutput, CoreRetryResendsOnlyWhatWasNotAccepted) {
  // Requests of 2 records: the first is accepted, then the receiver is unavailable until the
  // output hands the delivery back; the core's retry must not resend m0 and m1.
  std::atomic<bool> down{true};
  FakeReceiver server([&](int n, const Received&) {
    if (n == 0) return Reply{200, ""};
    return down ? Reply{503, "busy"} : Reply{200, ""};
  });
  FakeContext ctx;
  OtlpOptions o = base_options(server.url());
  o.batch_max_events = 2;
  o.retries = 1;
  OtlpOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  SharedBatch a = make_batch(3, "a"), b = make_batch(2, "b");
  DeliveryResult r1 = deliver_and_wait(out, {a, b});
  EXPECT_EQ(r1.kind, DeliveryResult::Kind::kRetry);
  EXPECT_EQ(r1.reason, "HTTP 503: busy");
  down = false;
  DeliveryResult r2 = deliver_and_wait(out, {a, b});
  out.stop();
  EXPECT_EQ(r2.kind, DeliveryResult::Kind::kDelivered) << r2.reason;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);   // a0 a1 | a2 b0 (503) | a2 b0 (503) || a2 b0 | b1
  EXPECT_EQ(reqs[0].bodies, (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(reqs[3].bodies, (std::vector<std::string>{"a2", "b0"}));
  EXPECT_EQ(reqs[4].bodies, (std::vector<std::string>{"b1"}));
}

TEST(OtlpOutput, OtherStatusesAndUnreachableAreRetriedByTheCore) {
  FakeReceiver server([](int, const Received&) { return Reply{401, "no"}; });
  FakeContext ctx;
  OtlpOutput out(base_options(server.url()));
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(1)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(ctx.dead.empty());

  int port;
  {
    FakeReceiver gone([](int, const Received&) { return Reply{}; });
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  FakeContext ctx2;
  OtlpOutput out2(base_options("http://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(out2.start(ctx2).is_ok());
  DeliveryResult r2 = deliver_and_wait(out2, {make_batch(1)});
  out2.stop();
  EXPECT_EQ(r2.kind, DeliveryResult::Kind::kRetry);
  EXPECT_TRUE(ctx2.dead.empty());
}

TEST(OtlpOutput, JsonEncodingPartialSuccess) {
  FakeReceiver server([](int, const Received&) {
    return Reply{200, R"({"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"dup"}})"};
  });
  FakeContext ctx;
  OtlpOptions o = base_options(server.url());
  o.encoding = Encoding::kJson;
  o.compression = Compression::kNone;
  OtlpOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(3)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].content_type, "application/json");
  EXPECT_EQ(reqs[0].encoding, "");
  ASSERT_EQ(ctx.dead.size(), 1u);
  EXPECT_EQ(ctx.dead[0].message, "m2");
  EXPECT_EQ(ctx.dead[0].reason, "partial success: 1 of 3 records rejected: dup");
}

TEST(OtlpOutput, OptionsValidation) {
  OtlpOptions o;
  EXPECT_TRUE(o.validate().is_ok());
  o.endpoint = "ftp://x";
  EXPECT_FALSE(o.validate().is_ok());
  o = OtlpOptions{};
  o.path = "v1/logs";
  EXPECT_EQ(o.validate().message(), "path must start with '/'");
  o = OtlpOptions{};
  o.headers = {{"bad name", "v"}};
  EXPECT_FALSE(o.validate().is_ok());
  o = OtlpOptions{};
  o.headers = {{"x", "a\r\nb"}};
  EXPECT_FALSE(o.validate().is_ok());
}

}  // namespace
}  // namespace logship::plugins::otlp
