#pragma once
// The admin HTTP endpoint: /metrics (Prometheus text), /health, /ready, POST /api/reload and
// GET /api/tap (a live stream of events at a tap point, see tap_hub.h). One thread runs an
// io_context; requests are tiny and rare, so one connection at a time per strand is plenty.
// At most kMaxConnections are open (the oldest is closed for a new one), each for at most
// kIoTimeout per step.
#include <chrono>
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

  // Who may use a path: nobody, clients on 127.0.0.1/::1, anyone who reaches the endpoint.
  enum class Access { kOff, kLoopback, kAny };

  // POST /api/reload: who may ask, how to start a reload, and how long to wait for its outcome
  // (ReloadOutcomes) before answering 504. Before start(); without it the path is 404.
  void enable_reload(Access access, std::function<void()> trigger,
                     std::chrono::milliseconds wait_limit);

  // GET /api/tap: who may tap (service.tap; kOff answers 403). Before start(); without it the
  // path is 404.
  void enable_tap(Access access);

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
