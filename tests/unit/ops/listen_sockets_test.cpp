#include "daemon/runtime/listen_sockets.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace logship {
namespace {

// A TCP port free right now on 127.0.0.1.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool can_connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST(ListenSocketsTest, ASocketBoundEarlyIsTakenStaysOpenAcrossTakesAndIsClosedWhenUnused) {
  ListenSockets sockets;
  const uint16_t port = free_port();
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());   // no-op
  EXPECT_EQ(sockets.take(ListenSockets::Proto::kUdp, "127.0.0.1", port), -1);
  EXPECT_EQ(sockets.take(ListenSockets::Proto::kTcp, "0.0.0.0", port), -1);

  // A first pipeline takes it and stops: the port keeps listening (the backlog holds senders).
  int fd = sockets.take(ListenSockets::Proto::kTcp, "127.0.0.1", port);
  ASSERT_GE(fd, 0);
  sockets.close_untaken();
  ::close(fd);
  EXPECT_TRUE(can_connect(port));

  // The next one takes it again.
  fd = sockets.take(ListenSockets::Proto::kTcp, "127.0.0.1", port);
  ASSERT_GE(fd, 0);
  int conn = ::accept(fd, nullptr, nullptr);   // the connection queued while nobody served
  EXPECT_GE(conn, 0);
  ::close(conn);
  ::close(fd);
  sockets.close_untaken();

  // A pipeline without this input: the port is released.
  sockets.close_untaken();
  EXPECT_FALSE(can_connect(port));
  EXPECT_EQ(sockets.take(ListenSockets::Proto::kTcp, "127.0.0.1", port), -1);
}

TEST(ListenSocketsTest, BadAddressesAndTakenPortsAreErrors) {
  ListenSockets sockets;
  EXPECT_FALSE(sockets.bind(ListenSockets::Proto::kUdp, "not-an-ip", 514).is_ok());
  const uint16_t port = free_port();
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());
  ListenSockets other;
  EXPECT_FALSE(other.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kUdp, "127.0.0.1", port).is_ok());
  int fd = sockets.take(ListenSockets::Proto::kUdp, "127.0.0.1", port);
  EXPECT_GE(fd, 0);
  ::close(fd);
}

TEST(ListenSocketsTest, PrivilegedPorts) {
  EXPECT_FALSE(is_privileged_port(0));
  EXPECT_TRUE(is_privileged_port(514));
  EXPECT_TRUE(is_privileged_port(1023));
  EXPECT_FALSE(is_privileged_port(1024));
}

}  // namespace
}  // namespace logship
