#pragma once
// The admin HTTP endpoint: /metrics (Prometheus text), /health and /ready. One thread runs an
// io_context; requests are tiny and rare, so one connection at a time per strand is plenty.
// At most kMaxConnections are open (the oldest is closed for a new one), each for at most
// kIoTimeout per step.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/core/status.h"

namespace logship {

class AdminHttp {
 public:
  // Returns true when ready; otherwise sets *why. Called on the HTTP thread: must be
  // thread-safe against pipeline reloads.
  using ReadyFn = std::function<bool(std::string* why)>;

  AdminHttp();
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;

  // Binds `listen` ("host:port"; port 0 picks one) and starts the thread.
  Status start(const std::string& listen, ReadyFn ready);
  void stop();
  // The bound port (useful with port 0).
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logship
