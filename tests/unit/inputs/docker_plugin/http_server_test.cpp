#include "inputs/docker_plugin/http_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace logship::docker_plugin {
namespace {

using namespace std::chrono_literals;

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `until` appears, EOF, or the timeout; returns what came.
std::string read_until(int fd, std::string_view until, std::chrono::milliseconds timeout = 5s) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(until) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

bool send_all(int fd, std::string_view s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

std::string post(std::string_view path, bool close = false) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n{}";
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lsp-http-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/s.sock";
  }
  void TearDown() override {
    release_.store(true);
    server_.stop();
    ::rmdir(dir_.c_str());
  }
  void start(HttpLimits limits) {
    ASSERT_TRUE(server_
                    .start(PluginContext{PluginKind::kInput, "t", "docker_plugin"}, path_, limits,
                           [this](const HttpRequest& r, ResponseWriter& w) {
                             if (r.path != "/stream") {
                               w.reply(200, "{\"Path\":\"" + r.path + "\"}");
                               return;
                             }
                             ++streams_open_;
                             w.begin_stream("application/x-json-stream");
                             while (!release_.load() && !server_.stopping() && !w.peer_closed()) {
                               if (!w.chunk("tick")) break;
                               std::this_thread::sleep_for(20ms);
                             }
                             w.end_stream();
                             --streams_open_;
                           },
                           [](const HttpRequest& r) { return r.path == "/stream"; })
                    .is_ok());
  }
  // One request on a new connection: the whole reply.
  std::string call(std::string_view path) {
    int fd = connect_unix(path_);
    if (fd < 0) return "connect failed";
    send_all(fd, post(path, true));
    std::string got = read_until(fd, "}");
    ::close(fd);
    return got;
  }

  std::string dir_, path_;
  HttpServer server_;
  std::atomic<bool> release_{false};
  std::atomic<int> streams_open_{0};
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start(HttpLimits{});
  int fd = connect_unix(path_);
  ASSERT_GE(fd, 0);
  for (const char* p : {"/a", "/b", "/c"}) {
    ASSERT_TRUE(send_all(fd, post(p)));
    std::string reply = read_until(fd, "\"}");
    EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
    EXPECT_NE(reply.find(std::string("{\"Path\":\"") + p + "\"}"), std::string::npos) << reply;
  }
  ::close(fd);
}

TEST_F(HttpServerTest, IdleConnectionsNeverLockANewClientOut) {
  HttpLimits l;
  l.max_connections = 8;
  start(l);
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) {
    int fd = connect_unix(path_);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // The oldest idle ones were closed to make room; the newest client is served.
  EXPECT_NE(call("/fresh").find("{\"Path\":\"/fresh\"}"), std::string::npos);
  int closed = 0;
  for (int fd : idle) {
    if (read_until(fd, "x", 20ms).empty()) {
      pollfd p{fd, POLLIN, 0};
      char c;
      if (::poll(&p, 1, 0) == 1 && ::recv(fd, &c, 1, MSG_DONTWAIT) == 0) ++closed;
    }
    ::close(fd);
  }
  EXPECT_GE(closed, 50 - 8 + 1);
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterTheTimeout) {
  HttpLimits l;
  l.idle_timeout = 300ms;
  start(l);
  int fd = connect_unix(path_);
  ASSERT_GE(fd, 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_until(fd, "x", 3s), "");   // EOF, not a timeout
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  ::close(fd);
}

TEST_F(HttpServerTest, OpenStreamsDoNotStarveShortRequestsAndAreCapped) {
  HttpLimits l;
  l.max_streams = 3;
  l.workers = 1;
  start(l);
  std::vector<int> streams;
  for (int i = 0; i < 3; ++i) {
    int fd = connect_unix(path_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_all(fd, post("/stream")));
    EXPECT_NE(read_until(fd, "tick").find("tick"), std::string::npos);
    streams.push_back(fd);
  }
  EXPECT_EQ(streams_open_.load(), 3);
  // A fourth stream is refused; short requests still go through, many times over.
  EXPECT_NE(call("/stream").find("503"), std::string::npos);
  for (int i = 0; i < 20; ++i) {
    ASSERT_NE(call("/short").find("{\"Path\":\"/short\"}"), std::string::npos) << i;
  }
  // A stream whose client left frees its slot.
  ::close(streams.back());
  streams.pop_back();
  for (int i = 0; i < 100 && streams_open_.load() != 2; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(streams_open_.load(), 2);
  int fd = connect_unix(path_);
  ASSERT_TRUE(send_all(fd, post("/stream")));
  EXPECT_NE(read_until(fd, "tick").find("tick"), std::string::npos);
  streams.push_back(fd);
  for (int s : streams) ::close(s);
}

TEST_F(HttpServerTest, MalformedAndOversizedRequestsAreAnsweredAndClosed) {
  HttpLimits l;
  l.max_body = 16;
  start(l);
  int fd = connect_unix(path_);
  ASSERT_TRUE(send_all(fd, "GARBAGE\r\n\r\n"));
  EXPECT_NE(read_until(fd, "}").find("400"), std::string::npos);
  ::close(fd);
  fd = connect_unix(path_);
  ASSERT_TRUE(send_all(fd, "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n"));
  EXPECT_NE(read_until(fd, "}").find("413"), std::string::npos);
  ::close(fd);
  EXPECT_NE(call("/after").find("{\"Path\":\"/after\"}"), std::string::npos);
}

TEST_F(HttpServerTest, StopEndsOpenStreamsPromptly) {
  start(HttpLimits{});
  int fd = connect_unix(path_);
  ASSERT_TRUE(send_all(fd, post("/stream")));
  EXPECT_NE(read_until(fd, "tick").find("tick"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  server_.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(streams_open_.load(), 0);
  ::close(fd);
}

}  // namespace
}  // namespace logship::docker_plugin
