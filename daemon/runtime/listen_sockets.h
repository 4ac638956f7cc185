#pragma once
// Listening sockets bound once at daemon start, before privileges are dropped, for the ports
// only root may bind (below 1024: syslog on 514). Inputs declare them in
// Input::bind_privileged(); start() takes a lease on its address here before binding one
// itself, and keeps it while it runs. The sockets stay open across reloads (the daemon could
// not bind them again), so a sender's connection waits in the backlog while the pipeline is
// swapped or the input restarted; once a reload is applied, a socket no running input leases
// is closed (its input left the config).
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/core/status.h"

namespace logship {

class ListenSockets {
 public:
  enum class Proto { kTcp, kUdp };

  // An input's hold on one bound socket, released when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    // A new descriptor for the socket (the caller owns and closes it), or -1 with errno set.
    int duplicate() const;
    void release();

   private:
    friend class ListenSockets;
    ListenSockets* owner_ = nullptr;
    uint64_t id_ = 0;
  };

  static ListenSockets& global();

  // Binds (TCP: and listens on) ip:port now and keeps the socket. Binding the same address
  // twice is a no-op.
  Status bind(Proto proto, const std::string& ip, uint16_t port);
  // A lease on the socket bound at exactly this address; empty when there is none.
  Lease take(Proto proto, const std::string& ip, uint16_t port);
  // Closes the sockets no lease holds: their input left the config (or never started).
  void close_unleased();
  ~ListenSockets();

 private:
  struct Entry {
    Proto proto;
    std::string ip;
    uint16_t port;
    int fd;
    uint64_t id;
    int leases;
  };
  std::mutex mu_;
  std::vector<Entry> entries_;
  uint64_t next_id_ = 1;
};

// True for ports only a privileged process may bind.
inline bool is_privileged_port(uint16_t port) { return port > 0 && port < 1024; }

}  // namespace logship
