// The output's retry, split and failover logic against a scripted HTTP server on 127.0.0.1.
#include "outputs/elasticsearch/es_output.h"

#include <sys/socket.h>
#include <zlib.h>

#include <future>
#include <map>
#include <set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace logship::plugins::es {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

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
  std::string target;
  std::string authorization;
  std::string encoding;
  std::string body;   // decompressed
  std::vector<std::string> ids;   // _id of each action line, in order
};

struct Reply {
  int status = 200;
  std::string body;
};

// Answers each request with script(n, request), n counting from 0; one thread per connection.
class FakeServer {
 public:
  using Script = std::function<Reply(int, const Received&)>;
  explicit FakeServer(Script script) : script_(std::move(script)), acceptor_(ioc_) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~FakeServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    }
    for (auto& t : conn_threads_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Received> requests() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      auto sock = std::make_unique<tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*sock, ec);
      if (ec) return;
      std::lock_guard lock(mu_);
      // The server owns the socket until its thread is joined: the thread returning when the
      // client hangs up must not free a socket the destructor still shuts down.
      tcp::socket* s = sock.get();
      sockets_.push_back(std::move(sock));
      conn_threads_.emplace_back([this, s] { serve(*s); });
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
      r.target = std::string(req.target());
      r.authorization = std::string(req[http::field::authorization]);
      r.encoding = std::string(req[http::field::content_encoding]);
      r.body = r.encoding == "gzip" ? gunzip(req.body()) : req.body();
      for (std::size_t pos = 0; (pos = r.body.find("\"_id\":\"", pos)) != std::string::npos;) {
        pos += 7;
        r.ids.push_back(r.body.substr(pos, r.body.find('"', pos) - pos));
      }
      int n;
      {
        std::lock_guard lock(mu_);
        n = static_cast<int>(received_.size());
        received_.push_back(r);
      }
      Reply reply = script_(n, r);
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
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
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::unique_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> conn_threads_;
  std::vector<Received> received_;
};

std::string bulk_reply(const std::vector<int>& statuses) {
  bool errors = false;
  std::string items;
  for (int s : statuses) {
    if (!items.empty()) items += ",";
    items += "{\"create\":{\"status\":" + std::to_string(s);
    if (s >= 300) {
      errors = true;
      items += s == 400 ? ",\"error\":{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad n\"}"
                        : ",\"error\":{\"type\":\"x\",\"reason\":\"busy\"}";
    }
    items += "}}";
  }
  return std::string("{\"errors\":") + (errors ? "true" : "false") + ",\"items\":[" + items + "]}";
}

std::vector<int> all(std::size_t n, int status) { return std::vector<int>(n, status); }

class FakeContext final : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return dir_; }
  Status dead_letter(const Event& e, const SourceInfo&, PermanentError,
                     std::string_view reason) override {
    std::lock_guard lock(mu_);
    dead.emplace_back(std::string(e.message), std::string(reason));
    return Status::ok();
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> dead;

 private:
  std::string name_ = "es";
  std::string dir_ = "/tmp";
};

SharedBatch make_batch(int n, const std::string& key = "src") {
  auto src = std::make_shared<SourceInfo>();
  src->input = "gen";
  src->key = key;
  auto b = std::make_shared<Batch>(src);
  for (int i = 0; i < n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1714557600000000000 + i;
    e.offset = static_cast<uint64_t>(i);
    e.message = b->copy("m" + std::to_string(i));
  }
  return b;
}

// The id make_batch's event `offset` gets.
std::string id_of(const std::string& key, uint64_t offset) {
  SharedBatch b = make_batch(static_cast<int>(offset) + 1, key);
  std::string id;
  BulkEncoder::append_id(id, BulkEncoder::hash_key(key), b->events()[offset]);
  return id;
}

EsOptions base_options(const std::string& url) {
  EsOptions o;
  o.hosts = {url};
  o.index = "t";
  o.mode = EsMode::kCreate;
  o.deterministic_ids = true;
  o.max_in_flight = 1;
  o.item_retries = 3;
  o.item_retry_initial = config::Millis(1);
  o.item_retry_max = config::Millis(5);
  o.timeout = config::Millis(5000);
  o.connect_timeout = config::Millis(2000);
  return o;
}

DeliveryResult deliver_and_wait(EsOutput& out, std::vector<SharedBatch> batches) {
  std::promise<DeliveryResult> p;
  auto f = p.get_future();
  out.deliver(batches, [&p](DeliveryResult r) { p.set_value(std::move(r)); });
  if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "delivery did not finish";
    out.stop();
  }
  return f.get();
}

TEST(EsOutput, MixedItemsResendOnlyTheFailedOnes) {
  FakeServer server([](int n, const Received& r) {
    if (n == 0) return Reply{200, bulk_reply({201, 429, 400, 409, 503, 201})};
    return Reply{200, bulk_reply(all(r.ids.size(), 201))};
  });
  FakeContext ctx;
  EsOutput out(base_options(server.url()));
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(6)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].encoding, "gzip");
  EXPECT_EQ(reqs[0].target, "/_bulk?filter_path=errors,items.*.status,items.*.error");
  ASSERT_EQ(reqs[0].ids.size(), 6u);
  EXPECT_EQ(reqs[1].ids, (std::vector<std::string>{id_of("src", 1), id_of("src", 4)}));
  // The resent body is exactly the two items' lines of the first request.
  std::string expected;
  BulkEncoder enc({"t", BulkAction::kCreate, true}, base_options(server.url()),
                  process_host_identity());
  auto b = make_batch(6);
  enc.begin_source(b->source());
  enc.append(expected, b->events()[1], b->source());
  enc.append(expected, b->events()[4], b->source());
  EXPECT_EQ(reqs[1].body, expected);
  ASSERT_EQ(ctx.dead.size(), 1u);
  EXPECT_EQ(ctx.dead[0].first, "m2");
  EXPECT_EQ(ctx.dead[0].second, "status 400: mapper_parsing_exception: bad n");
}

TEST(EsOutput, WholeRequest429And503AreRetriedByTheCore) {
  for (int status : {429, 503, 401}) {
    FakeServer server([status](int, const Received&) { return Reply{status, "{\"error\":\"busy\"}"}; });
    FakeContext ctx;
    EsOutput out(base_options(server.url()));
    ASSERT_TRUE(out.start(ctx).is_ok());
    DeliveryResult r = deliver_and_wait(out, {make_batch(3)});
    out.stop();
    EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry) << status;
    EXPECT_NE(r.reason.find("HTTP " + std::to_string(status)), std::string::npos) << r.reason;
    EXPECT_EQ(server.requests().size(), 1u);
    EXPECT_TRUE(ctx.dead.empty());
  }
}

TEST(EsOutput, TooLargeSplitsInHalvesUntilAccepted) {
  FakeServer server([](int, const Received& r) {
    if (r.ids.size() > 2) return Reply{413, ""};
    return Reply{200, bulk_reply(all(r.ids.size(), 201))};
  });
  FakeContext ctx;
  EsOutput out(base_options(server.url()));
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(5)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  // 5 -> 413; 2 ok; 3 -> 413; 1 ok; 2 ok.
  auto reqs = server.requests();
  std::vector<std::size_t> sizes;
  std::multiset<std::string> accepted;
  for (const auto& q : reqs) {
    sizes.push_back(q.ids.size());
    if (q.ids.size() <= 2) accepted.insert(q.ids.begin(), q.ids.end());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 2, 3, 1, 2}));
  ASSERT_EQ(accepted.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(accepted.count(id_of("src", i)), 1u);
}

TEST(EsOutput, ItemRetryBudgetRunsOutIntoCoreRetry) {
  FakeServer server([](int, const Received& r) {
    std::vector<int> s = all(r.ids.size(), 201);
    if (r.ids.front() == id_of("src", 0)) s[0] = 429;
    return Reply{200, bulk_reply(s)};
  });
  FakeContext ctx;
  EsOutput out(base_options(server.url()));   // item_retries = 3
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(4)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("1 items still rejected after 4 rounds"), std::string::npos) << r.reason;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].ids.size(), 4u);
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].ids, std::vector<std::string>{id_of("src", 0)});
  }
}

TEST(EsOutput, SplitsByEventCountAndBytes) {
  FakeServer server([](int, const Received& r) { return Reply{200, bulk_reply(all(r.ids.size(), 201))}; });
  FakeContext ctx;
  EsOptions o = base_options(server.url());
  o.bulk_max_events = 4;
  o.compression = EsCompression::kNone;
  EsOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(6, "a"), make_batch(4, "b")});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].ids.size(), 4u);
  EXPECT_EQ(reqs[1].ids.size(), 4u);
  EXPECT_EQ(reqs[2].ids.size(), 2u);
  EXPECT_EQ(reqs[0].encoding, "");
  EXPECT_EQ(reqs[1].ids[2], id_of("b", 0));

  // Each item's two lines are ~130 bytes in the logship layout: a 300-byte cap gives two items
  // per request.
  FakeServer server2([](int, const Received& r) { return Reply{200, bulk_reply(all(r.ids.size(), 201))}; });
  o = base_options(server2.url());
  o.schema_name = "logship";
  o.bulk_max_bytes = config::ByteSize(300);
  EsOutput out2(o);
  ASSERT_TRUE(out2.start(ctx).is_ok());
  r = deliver_and_wait(out2, {make_batch(5)});
  out2.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kDelivered);
  std::vector<std::size_t> sizes;
  for (const auto& q : server2.requests()) sizes.push_back(q.ids.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
}

TEST(EsOutput, FailsOverToTheNextHostAndSendsBasicAuth) {
  // A port that was just free: connection refused.
  unsigned short dead_port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead_port = a.local_endpoint().port();
  }
  FakeServer server([](int, const Received& r) { return Reply{200, bulk_reply(all(r.ids.size(), 201))}; });
  FakeContext ctx;
  EsOptions o = base_options("http://127.0.0.1:" + std::to_string(dead_port));
  o.hosts.push_back(server.url());
  o.username = "user";
  o.password = "pass";
  EsOutput out(o);
  ASSERT_TRUE(out.start(ctx).is_ok());
  EXPECT_EQ(deliver_and_wait(out, {make_batch(2)}).kind, DeliveryResult::Kind::kDelivered);
  EXPECT_EQ(deliver_and_wait(out, {make_batch(2)}).kind, DeliveryResult::Kind::kDelivered);
  out.stop();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].authorization, "Basic dXNlcjpwYXNz");
}

TEST(EsOutput, UnreachableHostIsRetryAndSeveralInFlight) {
  unsigned short dead_port;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    dead_port = a.local_endpoint().port();
  }
  FakeContext ctx;
  EsOutput out(base_options("http://127.0.0.1:" + std::to_string(dead_port)));
  ASSERT_TRUE(out.start(ctx).is_ok());
  DeliveryResult r = deliver_and_wait(out, {make_batch(2)});
  out.stop();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("connect http://127.0.0.1:" + std::to_string(dead_port)), std::string::npos)
      << r.reason;

  // Two deliveries outstanding at once each get their own connection.
  std::promise<void> both;
  std::atomic<int> arrived{0};
  auto gate = both.get_future().share();
  FakeServer server([&](int, const Received& r) {
    if (++arrived == 2) both.set_value();
    gate.wait_for(std::chrono::seconds(10));
    return Reply{200, bulk_reply(all(r.ids.size(), 201))};
  });
  EsOptions o = base_options(server.url());
  o.max_in_flight = 2;
  EsOutput out2(o);
  ASSERT_TRUE(out2.start(ctx).is_ok());
  std::promise<DeliveryResult> p1, p2;
  out2.deliver(std::vector<SharedBatch>{make_batch(1, "x")}, [&](DeliveryResult r) { p1.set_value(r); });
  out2.deliver(std::vector<SharedBatch>{make_batch(1, "y")}, [&](DeliveryResult r) { p2.set_value(r); });
  auto f1 = p1.get_future(), f2 = p2.get_future();
  ASSERT_EQ(f1.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  ASSERT_EQ(f2.wait_for(std::chrono::seconds(15)), std::future_status::ready);
  EXPECT_EQ(f1.get().kind, DeliveryResult::Kind::kDelivered);
  EXPECT_EQ(f2.get().kind, DeliveryResult::Kind::kDelivered);
  EXPECT_EQ(arrived.load(), 2);
  out2.stop();
}

TEST(EsOutput, StopEndsAnOutstandingDeliveryWithRetry) {
  std::promise<void> release;
  auto released = release.get_future().share();
  FakeServer server([&](int, const Received& r) {
    released.wait_for(std::chrono::seconds(20));
    return Reply{200, bulk_reply(all(r.ids.size(), 201))};
  });
  FakeContext ctx;
  EsOutput out(base_options(server.url()));
  ASSERT_TRUE(out.start(ctx).is_ok());
  std::promise<DeliveryResult> p;
  out.deliver(std::vector<SharedBatch>{make_batch(2)}, [&](DeliveryResult r) { p.set_value(r); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  auto t0 = std::chrono::steady_clock::now();
  out.stop();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  DeliveryResult r = f.get();
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  // A delivery after stop is refused at once, never lost.
  std::promise<DeliveryResult> p2;
  out.deliver(std::vector<SharedBatch>{make_batch(1)}, [&](DeliveryResult r) { p2.set_value(r); });
  EXPECT_EQ(p2.get_future().get().kind, DeliveryResult::Kind::kRetry);
  release.set_value();
}

}  // namespace
}  // namespace logship::plugins::es
