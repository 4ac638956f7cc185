#include "daemon/runtime/listen_sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace logship {

ListenSockets& ListenSockets::global() {
  static ListenSockets sockets;
  return sockets;
}

ListenSockets::~ListenSockets() {
  for (const Entry& e : entries_) ::close(e.fd);
}

Status ListenSockets::bind(Proto proto, const std::string& ip, uint16_t port) {
  std::lock_guard lock(mu_);
  for (const Entry& e : entries_) {
    if (e.proto == proto && e.ip == ip && e.port == port) return Status::ok();
  }
  const std::string what = std::string(proto == Proto::kTcp ? "tcp " : "udp ") +
                           (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" +
                           std::to_string(port);
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return Status::invalid("bind " + what + ": not an IP address");
  }
  const int type = proto == Proto::kTcp ? SOCK_STREAM : SOCK_DGRAM;
  int fd = ::socket(addr.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io("socket for " + what, errno);
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      (proto == Proto::kTcp && ::listen(fd, SOMAXCONN) != 0)) {
    const int err = errno;
    ::close(fd);
    return Status::io("bind " + what, err);
  }
  entries_.push_back(Entry{proto, ip, port, fd, next_id_++, 0});
  return Status::ok();
}

ListenSockets::Lease ListenSockets::take(Proto proto, const std::string& ip, uint16_t port) {
  std::lock_guard lock(mu_);
  Lease lease;
  for (Entry& e : entries_) {
    if (e.proto != proto || e.ip != ip || e.port != port) continue;
    ++e.leases;
    lease.owner_ = this;
    lease.id_ = e.id;
    break;
  }
  return lease;
}

void ListenSockets::close_unleased() {
  std::lock_guard lock(mu_);
  std::erase_if(entries_, [](const Entry& e) {
    if (e.leases > 0) return false;
    ::close(e.fd);
    return true;
  });
}

ListenSockets::Lease& ListenSockets::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

int ListenSockets::Lease::duplicate() const {
  if (!owner_) {
    errno = EBADF;
    return -1;
  }
  std::lock_guard lock(owner_->mu_);
  for (const Entry& e : owner_->entries_) {
    if (e.id == id_) return ::fcntl(e.fd, F_DUPFD_CLOEXEC, 0);
  }
  errno = EBADF;
  return -1;
}

void ListenSockets::Lease::release() {
  if (!owner_) return;
  std::lock_guard lock(owner_->mu_);
  for (Entry& e : owner_->entries_) {
    if (e.id == id_) --e.leases;
  }
  owner_ = nullptr;
}

}  // namespace logship
