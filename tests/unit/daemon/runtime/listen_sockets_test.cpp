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

TEST(ListenSocketsTest, ASocketBoundEarlyStaysOpenWhileLeasedAndIsClosedWhenNoInputHoldsIt) {
  using P = ListenSockets::Proto;
  ListenSockets sockets;
  const uint16_t port = free_port();
  ASSERT_TRUE(sockets.bind(P::kTcp, "127.0.0.1", port).is_ok());
  ASSERT_TRUE(sockets.bind(P::kTcp, "127.0.0.1", port).is_ok());   // no-op
  EXPECT_FALSE(sockets.take(P::kUdp, "127.0.0.1", port));
  EXPECT_FALSE(sockets.take(P::kTcp, "0.0.0.0", port));

  // A first pipeline's input leases it and stops; a reload starts it again before the sockets
  // nobody leases are closed: the port keeps listening (the backlog holds senders).
  {
    ListenSockets::Lease lease = sockets.take(P::kTcp, "127.0.0.1", port);
    ASSERT_TRUE(lease);
    int fd = lease.duplicate();
    ASSERT_GE(fd, 0);
    ::close(fd);
  }
  EXPECT_TRUE(can_connect(port));
  ListenSockets::Lease again = sockets.take(P::kTcp, "127.0.0.1", port);
  ASSERT_TRUE(again);
  sockets.close_unleased();
  int fd = again.duplicate();
  ASSERT_GE(fd, 0);
  int conn = ::accept(fd, nullptr, nullptr);   // the connection queued while nobody served
  EXPECT_GE(conn, 0);
  ::close(conn);
  ::close(fd);

  // Two leases (an input restarted in place takes its lease before the old one's goes): the
  // socket stays while either holds it.
  ListenSockets::Lease second = sockets.take(P::kTcp, "127.0.0.1", port);
  again.release();
  sockets.close_unleased();
  EXPECT_TRUE(can_connect(port));
  ListenSockets::Lease moved = std::move(second);
  EXPECT_FALSE(second);
  sockets.close_unleased();
  EXPECT_TRUE(can_connect(port));

  // The input left the config (a reload removed it): the port is released.
  moved.release();
  sockets.close_unleased();
  EXPECT_FALSE(can_connect(port));
  EXPECT_FALSE(sockets.take(P::kTcp, "127.0.0.1", port));
}

TEST(ListenSocketsTest, BadAddressesAndTakenPortsAreErrors) {
  ListenSockets sockets;
  EXPECT_FALSE(sockets.bind(ListenSockets::Proto::kUdp, "not-an-ip", 514).is_ok());
  const uint16_t port = free_port();
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());
  ListenSockets other;
  EXPECT_FALSE(other.bind(ListenSockets::Proto::kTcp, "127.0.0.1", port).is_ok());
  ASSERT_TRUE(sockets.bind(ListenSockets::Proto::kUdp, "127.0.0.1", port).is_ok());
  ListenSockets::Lease lease = sockets.take(ListenSockets::Proto::kUdp, "127.0.0.1", port);
  int fd = lease.duplicate();
  EXPECT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(ListenSockets::Lease().duplicate(), -1);
}

TEST(ListenSocketsTest, PrivilegedPorts) {
  EXPECT_FALSE(is_privileged_port(0));
  EXPECT_TRUE(is_privileged_port(514));
  EXPECT_TRUE(is_privileged_port(1023));
  EXPECT_FALSE(is_privileged_port(1024));
}

}  // namespace
}  // namespace logship
