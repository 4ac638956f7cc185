#pragma once
// A small HTTP/1.1 server on a unix socket with fixed thread and connection budgets.
//
// Threads:
//   loop     one epoll loop: accepts, reads and parses requests (non-blocking; Beast's parser
//            fed by hand), closes connections idle past idle_timeout.
//   workers  a small fixed pool that runs short requests (StartLogging, StopLogging, ...).
//   streams  one thread per long-lived response (ReadLogs, possibly `docker logs -f`), at most
//            max_streams at once, so open follow streams never starve the short requests.
// A connection waiting for its request costs no thread. At max_connections the connection that
// has waited longest is closed to admit the new one, so a flood of idle connections cannot lock
// the engine out; only when every connection is being served is a new one refused. A thread
// that cannot be created refuses the request (503, logged, counted), never aborts the daemon.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/core/plugin_context.h"
#include "daemon/core/status.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"

namespace logship::docker_plugin {

struct HttpRequest {
  std::string method;
  std::string path;   // target without query
  std::string body;
};

// The reply side of one request: either reply() once, or begin_stream(), chunk()..., end_stream().
// All return false once the peer is gone or made no progress for idle_timeout.
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
// True for requests whose response may last long (served on a stream thread).
using IsLongLived = std::function<bool(const HttpRequest&)>;

struct HttpLimits {
  std::size_t max_body = 4u << 20;
  std::size_t max_connections = 64;
  std::size_t max_streams = 16;
  std::size_t workers = 4;
  // A connection gets this long to send a complete request after accept or its last reply,
  // and a reply or stream write may make no progress for this long.
  std::chrono::milliseconds idle_timeout{60000};
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  // Binds `socket_path` (refusing one another process still serves), then starts the loop and
  // the workers. `plugin` labels the server's metrics and log lines.
  Status start(const PluginContext& plugin, const std::string& socket_path,
               const HttpLimits& limits, HttpHandler handler, IsLongLived long_lived);
  // Stops accepting, shuts every connection down and joins every thread.
  void stop();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  struct Conn;

 private:
  struct Counters;
  struct Stream;

  void loop();
  void work();
  void accept_all();
  void on_readable(Conn* c);
  bool parse(Conn* c);
  void dispatch(Conn* c);
  void serve(Conn* c);
  void give_back(Conn* c, bool keep);
  void take_back_returned();
  void wait_for_request(Conn* c);
  void close_conn(Conn* c, std::atomic<uint64_t>* reason);
  void refuse(Conn* c, int status, std::string_view why, std::atomic<uint64_t>* reason);
  void reap_streams(bool all);
  void wake();
  // Lines a peer can repeat (bad requests, refusals): rate-limited together.
  void warn_limited(std::string_view what, std::string_view fields = {}) {
    log_.warn(warn_limit_, what, fields);
  }

  ComponentLog log_{PluginContext{PluginKind::kInput, "", "docker_plugin"}};   // named at start
  log::RateLimit warn_limit_{5, std::chrono::seconds(10)};
  std::string path_;
  HttpLimits limits_;
  HttpHandler handler_;
  IsLongLived long_lived_;
  std::unique_ptr<Counters> counters_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread loop_thread_;
  std::vector<std::thread> workers_;

  // Loop thread only.
  std::list<std::unique_ptr<Conn>> conns_;   // every open connection
  std::list<Conn*> waiting_;                 // waiting for a request, longest-waiting first
  std::vector<std::unique_ptr<Conn>> graveyard_;   // freed after the current epoll batch
  std::list<std::unique_ptr<Stream>> streams_;

  std::mutex mu_;   // guards the queues below
  std::condition_variable work_cv_;
  std::deque<Conn*> work_;                          // complete short requests
  std::vector<std::pair<Conn*, bool>> returned_;    // served: (conn, keep alive)
};

}  // namespace logship::docker_plugin
