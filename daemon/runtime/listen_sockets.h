#pragma once
// Listening sockets bound once at daemon start, before privileges are dropped, for the ports
// only root may bind (below 1024: syslog on 514). Inputs declare them in
// Input::bind_privileged(); start() takes a descriptor for its address here before binding
// one itself. The sockets stay open across reloads (the daemon could not bind them again), so
// a sender's connection waits in the backlog while the pipeline is swapped; a socket no input
// takes after a (re)start is closed.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/core/status.h"

namespace logship {

class ListenSockets {
 public:
  enum class Proto { kTcp, kUdp };

  static ListenSockets& global();

  // Binds (TCP: and listens on) ip:port now and keeps the socket. Binding the same address
  // twice is a no-op.
  Status bind(Proto proto, const std::string& ip, uint16_t port);
  // A new descriptor for the socket bound at exactly this address (the caller closes it), or
  // -1 when there is none.
  int take(Proto proto, const std::string& ip, uint16_t port);
  // Closes the sockets nothing took since the last call: their input left the config.
  void close_untaken();
  ~ListenSockets();

 private:
  struct Entry {
    Proto proto;
    std::string ip;
    uint16_t port;
    int fd;
    bool taken;
  };
  std::mutex mu_;
  std::vector<Entry> entries_;
};

// True for ports only a privileged process may bind.
inline bool is_privileged_port(uint16_t port) { return port > 0 && port < 1024; }

}  // namespace logship
