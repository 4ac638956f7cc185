// RelpClient against a scripted RELP server on 127.0.0.1: acknowledgement accounting, the
// window, and every way a session can go wrong (refusal, garbage, txnr out of order, connection
// loss, serverclose, silence).
#include "outputs/syslog/relp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/core/plugin_api.h"
#include "daemon/registry/plugin.h"
#include "outputs/syslog/relp_protocol.h"

namespace logship::syslog {
namespace {

using namespace std::chrono_literals;

constexpr char kClose[] = "<close connection>";

std::string rsp(uint32_t txnr, std::string_view data) {
  std::string out;
  relp::append_frame(out, txnr, "rsp", data);
  return out;
}

std::string open_ok() { return "200 OK\nrelp_version=0\nrelp_software=fake\ncommands=syslog"; }

// One connection at a time; `reply` maps each received frame to the bytes sent back (kClose:
// close the connection instead).
class FakeServer {
 public:
  using Reply = std::function<std::string(const relp::Frame&)>;

  explicit FakeServer(Reply reply, bool byte_by_byte = false)
      : reply_(std::move(reply)), byte_by_byte_(byte_by_byte) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeServer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<std::string> commands() {
    std::lock_guard lock(mu_);
    return commands_;
  }
  // Sends bytes on the current connection from the test thread (server-initiated hints).
  void push(const std::string& bytes) {
    std::lock_guard lock(mu_);
    if (conn_fd_ >= 0) ::send(conn_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void close_connection() {
    std::lock_guard lock(mu_);
    if (conn_fd_ >= 0) ::shutdown(conn_fd_, SHUT_RDWR);
  }

 private:
  bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 20) > 0;
  }

  void run() {
    while (!stop_) {
      if (!readable(listen_fd_)) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      {
        std::lock_guard lock(mu_);
        conn_fd_ = fd;
      }
      serve(fd);
      std::lock_guard lock(mu_);
      ::close(fd);
      conn_fd_ = -1;
    }
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    while (!stop_) {
      if (!readable(fd)) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      std::size_t pos = 0;
      while (true) {
        relp::Frame f;
        std::size_t used = 0;
        auto r = relp::parse_frame(std::string_view(in).substr(pos), 1 << 20, &f, &used);
        if (!r.is_ok()) ADD_FAILURE() << "client sent bad frame: " << r.status().message();
        if (!r.is_ok() || r.value() != relp::ParseResult::kFrame) break;
        pos += used;
        {
          std::lock_guard lock(mu_);
          commands_.emplace_back(f.command);
          if (f.command == "syslog") messages_.emplace_back(f.data);
        }
        std::string out = reply_(f);
        if (out == kClose) {
          // FIN, not RST: a RST would make the client's kernel drop the rsps sent before.
          ::shutdown(fd, SHUT_WR);
          while (!stop_) {
            if (readable(fd) && ::recv(fd, buf, sizeof buf, 0) <= 0) return;
          }
          return;
        }
        if (byte_by_byte_) {
          for (char c : out) {
            ::send(fd, &c, 1, MSG_NOSIGNAL);
            std::this_thread::sleep_for(50us);
          }
        } else if (!out.empty()) {
          ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        }
      }
      in.erase(0, pos);
    }
  }

  Reply reply_;
  bool byte_by_byte_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int conn_fd_ = -1;
  std::vector<std::string> messages_;
  std::vector<std::string> commands_;
};

// Answers open with offers and everything else with 200, except where `special` says otherwise
// (it gets the syslog message's 0-based index and returns "" for the default).
FakeServer::Reply scripted(std::function<std::string(const relp::Frame&, int)> special = {}) {
  auto count = std::make_shared<int>(0);
  return [special, count](const relp::Frame& f) -> std::string {
    if (f.command == "open") return rsp(f.txnr, open_ok());
    if (f.command == "syslog") {
      int i = (*count)++;
      if (special) {
        std::string s = special(f, i);
        if (!s.empty()) return s;
      }
    }
    return rsp(f.txnr, "200 OK");
  };
}

struct Session {
  Connection conn;
  RelpClient client;
  Session(uint16_t port, uint32_t window, std::chrono::milliseconds timeout = 2000ms)
      : conn(Transport::kTcp, "127.0.0.1", port, {}), client(conn, window, timeout) {}
  Status open() {
    Status s = conn.connect(2000ms);
    if (!s.is_ok()) return s;
    return client.open();
  }
  // Sends messages 0..n-1 and waits for the replies; the first error.
  Status send(int n, int from = 0) {
    for (int i = from; i < from + n; ++i) {
      Status s = client.send(message(i));
      if (!s.is_ok()) return s;
    }
    return client.finish();
  }
  static std::string message(int i) {
    std::string m = "<14>1 - host app - - - message " + std::to_string(i);
    if (i % 3 == 0) m += std::string("\nwith LF\0and NUL", 16);
    return m;
  }
};

TEST(RelpClient, OpensAndAcknowledgesEveryMessage) {
  FakeServer server(scripted());
  Session s(server.port(), 8);
  ASSERT_TRUE(s.open().is_ok());
  EXPECT_TRUE(s.client.ready());
  Status st = s.send(100);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(s.client.acked(), 100u);
  auto got = server.messages();
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], Session::message(i)) << i;
  s.client.close(1000ms);
  EXPECT_FALSE(s.client.ready());
  auto cmds = server.commands();
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds.front(), "open");
  EXPECT_EQ(cmds.back(), "close");
}

TEST(RelpClient, RepliesSplitIntoSingleBytes) {
  FakeServer server(scripted(), /*byte_by_byte=*/true);
  Session s(server.port(), 4);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(30);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(s.client.acked(), 30u);
  EXPECT_EQ(server.messages().size(), 30u);
}

TEST(RelpClient, NeverMoreThanWindowOutstanding) {
  // The server answers only once `window` transactions are waiting, so a client that sent more
  // would be seen here, and one that waited for fewer would hang (and time out).
  constexpr uint32_t kWindow = 5;
  std::vector<uint32_t> unanswered;
  uint32_t max_unanswered = 0;
  FakeServer server([&](const relp::Frame& f) -> std::string {
    if (f.command == "open") return rsp(f.txnr, open_ok());
    if (f.command != "syslog") return rsp(f.txnr, "200 OK");
    unanswered.push_back(f.txnr);
    max_unanswered = std::max<uint32_t>(max_unanswered, unanswered.size());
    if (unanswered.size() < kWindow) return "";
    std::string out;
    for (uint32_t t : unanswered) out += rsp(t, "200 OK");
    unanswered.clear();
    return out;
  });
  Session s(server.port(), kWindow);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(10 * kWindow);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(s.client.acked(), 10 * kWindow);
  s.client.close(500ms);
  EXPECT_EQ(max_unanswered, kWindow);
}

TEST(RelpClient, WrongTxnrDropsTheSessionKeepingTheAckedPrefix) {
  FakeServer server(scripted([](const relp::Frame& f, int i) -> std::string {
    return i == 3 ? rsp(f.txnr + 1, "200 OK") : "";
  }));
  Session s(server.port(), 2);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(10);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("expected " + std::to_string(2 + 3)), std::string::npos)
      << st.message();
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kProtocol);
  EXPECT_EQ(s.client.acked(), 3u);
  EXPECT_FALSE(s.client.ready());
  EXPECT_FALSE(s.conn.connected());
}

TEST(RelpClient, GarbageReplyIsAProtocolError) {
  FakeServer server(scripted([](const relp::Frame&, int i) -> std::string {
    return i == 2 ? std::string("HTTP/1.1 400 Bad Request\r\n\r\n") : "";
  }));
  Session s(server.port(), 1);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(5);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("framing error"), std::string::npos) << st.message();
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kProtocol);
  EXPECT_EQ(s.client.acked(), 2u);
  EXPECT_FALSE(s.conn.connected());
}

TEST(RelpClient, OversizedReplyIsRejectedNotBuffered) {
  FakeServer server(scripted([](const relp::Frame& f, int i) -> std::string {
    return i == 1 ? std::to_string(f.txnr) + " rsp 999999999 200 OK" : "";
  }));
  Session s(server.port(), 1);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(3);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("exceeds"), std::string::npos) << st.message();
  EXPECT_EQ(s.client.acked(), 1u);
}

TEST(RelpClient, ErrorRspIsARefusal) {
  FakeServer server(scripted([](const relp::Frame& f, int i) -> std::string {
    return i == 4 ? rsp(f.txnr, "500 queue full") : "";
  }));
  Session s(server.port(), 1);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(8);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("500 queue full"), std::string::npos) << st.message();
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kRefused);
  EXPECT_EQ(s.client.acked(), 4u);
}

TEST(RelpClient, ConnectionLossMidWindowCountsOnlyAnsweredMessages) {
  FakeServer server(scripted([](const relp::Frame&, int i) -> std::string {
    return i == 5 ? kClose : "";
  }));
  Session s(server.port(), 16);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(10);
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kConnection);
  EXPECT_EQ(s.client.acked(), 5u);
  // A new session starts over at txnr 1 and works.
  ASSERT_TRUE(s.open().is_ok());
  s.client.reset_acked();
  st = s.send(3);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(s.client.acked(), 3u);
}

TEST(RelpClient, ServerCloseWithTheLastRspCompletesThenEndsTheSession) {
  FakeServer server(scripted([](const relp::Frame& f, int i) -> std::string {
    return i == 9 ? rsp(f.txnr, "200 OK") + "0 serverclose 0\n" : "";
  }));
  Session s(server.port(), 16);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(10);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(s.client.acked(), 10u);
  EXPECT_FALSE(s.client.ready());
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kServerClose);
}

TEST(RelpClient, ServerCloseWithTransactionsOutstandingFails) {
  FakeServer server(scripted([](const relp::Frame& f, int i) -> std::string {
    return i == 2 ? std::string("0 serverclose 0\n") : "";
  }));
  Session s(server.port(), 1);
  ASSERT_TRUE(s.open().is_ok());
  Status st = s.send(5);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("serverclose"), std::string::npos) << st.message();
  EXPECT_EQ(s.client.acked(), 2u);
}

TEST(RelpClient, IdleCheckSeesServerCloseAndEof) {
  FakeServer server(scripted());
  Session s(server.port(), 4);
  ASSERT_TRUE(s.open().is_ok());
  ASSERT_TRUE(s.send(3).is_ok());
  EXPECT_TRUE(s.client.check_idle());
  server.push("0 serverclose 0\n");
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(s.client.check_idle());
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kServerClose);

  ASSERT_TRUE(s.open().is_ok());
  EXPECT_TRUE(s.client.check_idle());
  server.close_connection();
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(s.client.check_idle());
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kConnection);
}

TEST(RelpClient, UnsolicitedRspWhileIdleIsAProtocolError) {
  FakeServer server(scripted());
  Session s(server.port(), 4);
  ASSERT_TRUE(s.open().is_ok());
  server.push(rsp(7, "200 OK"));
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(s.client.check_idle());
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kProtocol);
}

TEST(RelpClient, SilentServerTimesOut) {
  // A reply that starts and never completes.
  FakeServer silent([](const relp::Frame& f) -> std::string {
    return f.command == "open" ? rsp(f.txnr, open_ok()) : "2 rsp 6 20";
  });
  Session s(silent.port(), 4, 200ms);
  ASSERT_TRUE(s.open().is_ok());
  auto start = std::chrono::steady_clock::now();
  Status st = s.send(1);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("no RELP reply within 200 ms"), std::string::npos) << st.message();
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 2000ms);
}

TEST(RelpClient, OpenRequiresTheSyslogCommandOffer) {
  FakeServer server([](const relp::Frame& f) -> std::string {
    return rsp(f.txnr, "200 OK\nrelp_version=0\ncommands=eventlog");
  });
  Session s(server.port(), 4);
  Status st = s.open();
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("syslog command"), std::string::npos) << st.message();
  EXPECT_FALSE(s.client.ready());
}

TEST(RelpClient, OpenRefused) {
  FakeServer server([](const relp::Frame& f) -> std::string {
    return rsp(f.txnr, "500 not allowed");
  });
  Session s(server.port(), 4);
  Status st = s.open();
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("500 not allowed"), std::string::npos) << st.message();
  EXPECT_EQ(s.client.last_failure(), RelpClient::Failure::kRefused);
}


// The syslog output with transport: relp, through the registry as the daemon makes it.
class FakeContext final : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return dir_; }
  Status dead_letter(const Event&, const SourceInfo&, PermanentError, std::string_view) override {
    ++dead;
    return Status::ok();
  }
  int dead = 0;

 private:
  std::string name_ = "relp";
  std::string dir_ = "/tmp";
};

struct RelpOutput {
  OutputMaker maker;
  std::unique_ptr<Output> out;
  FakeContext ctx;
  explicit RelpOutput(uint16_t port) {
    const PluginInfo* info = find_plugin(PluginKind::kOutput, "syslog");
    EXPECT_NE(info, nullptr);
    config::Errors errors;
    YAML::Node node = YAML::Load("host: 127.0.0.1\nport: " + std::to_string(port) +
                                 "\ntransport: relp\nwindow_size: 4\ntimeout: 2s\n"
                                 "hostname: h\napp_name: app\nsd_id: ''\nbom: false\n");
    maker = info->bind_output(node, errors, {PluginKind::kOutput, "relp", "syslog"});
    EXPECT_TRUE(static_cast<bool>(maker));
    out = maker();
    EXPECT_TRUE(out->start(ctx).is_ok());
  }
  ~RelpOutput() { out->stop(); }
  DeliveryResult deliver(const std::vector<SharedBatch>& batches) {
    std::promise<DeliveryResult> p;
    auto f = p.get_future();
    out->deliver(batches, [&p](DeliveryResult r) { p.set_value(std::move(r)); });
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    return f.get();
  }
};

SharedBatch make_batch(int from, int n) {
  auto src = std::make_shared<SourceInfo>();
  auto b = std::make_shared<Batch>(src);
  for (int i = from; i < from + n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1714557600000000000;
    e.message = b->copy("m" + std::to_string(i));
  }
  return b;
}

// The message numbers ("... m<i>") the server received, in order.
std::vector<int> numbers(const std::vector<std::string>& messages) {
  std::vector<int> out;
  for (const std::string& m : messages) {
    std::size_t at = m.rfind(" m");
    out.push_back(at == std::string::npos ? -1 : std::stoi(m.substr(at + 2)));
  }
  return out;
}

std::vector<int> range(int from, int to) {
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(RelpOutput, RetryResendsOnlyWhatWasNotAcknowledged) {
  // The first connection acks messages 0..6 and dies on 7 (received, never answered).
  FakeServer server(scripted([](const relp::Frame&, int i) -> std::string {
    return i == 7 ? kClose : "";
  }));
  RelpOutput o(server.port());
  std::vector<SharedBatch> batches{make_batch(0, 5), make_batch(5, 10), make_batch(15, 5)};
  DeliveryResult r = o.deliver(batches);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("closed"), std::string::npos) << r.reason;
  // The runner retries the same batch objects: only 7.. goes out again.
  r = o.deliver(batches);
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  std::vector<int> expected = range(0, 8);
  for (int i : range(7, 20)) expected.push_back(i);
  EXPECT_EQ(numbers(server.messages()), expected);
  // Delivered batches leave no resume point behind: new batches are sent whole.
  r = o.deliver({make_batch(20, 3)});
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  EXPECT_EQ(numbers(server.messages()).size(), expected.size() + 3);
}

TEST(RelpOutput, RefusedMessageFailsTheDeliveryAndIsRetriedFromThere) {
  auto refusals = std::make_shared<int>(0);
  FakeServer server(scripted([refusals](const relp::Frame& f, int i) -> std::string {
    if (i == 3 && (*refusals)++ == 0) return rsp(f.txnr, "500 try later");
    return "";
  }));
  RelpOutput o(server.port());
  std::vector<SharedBatch> batches{make_batch(0, 6)};
  DeliveryResult r = o.deliver(batches);
  EXPECT_EQ(r.kind, DeliveryResult::Kind::kRetry);
  EXPECT_NE(r.reason.find("500 try later"), std::string::npos) << r.reason;
  r = o.deliver(batches);
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  // Message 3 was refused, so it and whatever followed it in the window go again.
  std::vector<int> got = numbers(server.messages());
  ASSERT_GE(got.size(), 7u);
  EXPECT_EQ(std::vector<int>(got.begin(), got.begin() + 4), range(0, 4));
  std::vector<int> tail(got.end() - 3, got.end());
  EXPECT_EQ(tail, range(3, 6));
  EXPECT_EQ(o.ctx.dead, 0);
}

TEST(RelpOutput, DifferentBatchesAfterAFailureAreSentWhole) {
  FakeServer server(scripted([](const relp::Frame&, int i) -> std::string {
    return i == 2 ? kClose : "";
  }));
  RelpOutput o(server.port());
  EXPECT_EQ(o.deliver({make_batch(0, 4)}).kind, DeliveryResult::Kind::kRetry);
  // Not a retry of the same batch (e.g. after a restart of the pipeline): nothing is skipped.
  ASSERT_EQ(o.deliver({make_batch(100, 3)}).kind, DeliveryResult::Kind::kDelivered);
  std::vector<int> got = numbers(server.messages());
  std::vector<int> tail(got.end() - 3, got.end());
  EXPECT_EQ(tail, range(100, 103));
}

TEST(RelpOutput, FramingOptionIsRejectedForRelp) {
  const PluginInfo* info = find_plugin(PluginKind::kOutput, "syslog");
  ASSERT_NE(info, nullptr);
  config::Errors errors;
  YAML::Node node = YAML::Load("transport: relp\nframing: lf\n");
  EXPECT_FALSE(static_cast<bool>(info->bind_output(node, errors, {PluginKind::kOutput, "x", "syslog"})));
  ASSERT_FALSE(errors.all().empty());
  EXPECT_NE(errors.all().front().message.find("framing does not apply to relp"),
            std::string::npos)
      << errors.all().front().message;
  config::Errors ok;
  EXPECT_TRUE(static_cast<bool>(
      info->bind_output(YAML::Load("transport: relp+tls\nwindow_size: 1\n"), ok, {PluginKind::kOutput, "x", "syslog"})));
  config::Errors bad;
  EXPECT_FALSE(static_cast<bool>(
      info->bind_output(YAML::Load("transport: relp\nwindow_size: 0\n"), bad, {PluginKind::kOutput, "x", "syslog"})));
}

}  // namespace
}  // namespace logship::syslog
