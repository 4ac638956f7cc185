#pragma once
// A small HTTP/1.1 server on a unix socket (Boost.Beast, synchronous, one thread per
// connection). The engine opens few connections; a thread each keeps ReadLogs follow streams
// simple and never lets one slow client hold the others.
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/core/status.h"

namespace logship::docker_plugin {

struct HttpRequest {
  std::string method;
  std::string path;   // target without query
  std::string body;
};

// The reply side of one request: either reply() once, or begin_stream(), chunk()..., end_stream().
// All return false once the peer is gone.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual bool reply(int status, std::string_view json_body) = 0;
  virtual bool begin_stream(std::string_view content_type) = 0;
  virtual bool chunk(std::string_view data) = 0;
  virtual bool end_stream() = 0;
  // True when the client closed its side (checked while a follow stream is idle).
  virtual bool peer_closed() = 0;
};

using HttpHandler = std::function<void(const HttpRequest&, ResponseWriter&)>;

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  // Binds `socket_path` (refusing one another process still serves), then accepts on a thread.
  Status start(const std::string& socket_path, std::size_t max_body, HttpHandler handler);
  // Stops accepting, shuts every connection down and joins their threads.
  void stop();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

 private:
  struct Conn;
  void accept_loop();
  void serve(Conn* c);

  std::string path_;
  std::size_t max_body_ = 0;
  HttpHandler handler_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::list<std::unique_ptr<Conn>> conns_;
};

}  // namespace logship::docker_plugin
