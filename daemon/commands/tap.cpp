// `logship tap`: prints the live events of a running daemon at one tap point (after an input,
// after a named processor, before an output), from GET /api/tap on its admin endpoint. The
// daemon filters (condition), limits the rate and drops what a slow terminal cannot take; this
// side only connects, asks and copies lines to stdout.
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "daemon/registry/config_loader.h"
#include "config/option_types.h"
#include "daemon/commands/admin_address.h"
#include "daemon/commands/commands.h"

namespace logship::commands {
namespace {

struct TapArgs {
  std::vector<std::string> config_args;
  std::string address;
  std::string point;
  std::string where;
  std::string rate = "100";
  std::string format = "line";
  int64_t count = 0;            // 0: until interrupted
  config::Millis duration{0};   // 0: until interrupted
};

// ^C or SIGTERM ends the tap between lines: what was printed is whole lines.
volatile sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

int usage_error(const std::string& why) {
  std::fprintf(stderr, "logship tap: %s\n(logship tap --help)\n", why.c_str());
  return 2;
}

std::string url_encoded(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// A connected TCP socket to host:port.
Result<int> connect_to(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  if (!config::parse_listen_address(address, &host, &port)) {
    return Status::invalid("expected host:port, got '" + address + "'");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return Status::unavailable(::gai_strerror(rc));
  }
  int fd = -1;
  Status last = Status::unavailable("no address");
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = Status::io("socket", errno);
    } else if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last = Status::unavailable(std::strerror(errno));
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return last;
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

int tap(const std::vector<std::string>& args) {
  TapArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& x = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    std::string v;
    if (x == "--address") {
      if (!value(&a.address)) return usage_error("--address needs host:port");
    } else if (x == "--at") {
      if (!value(&a.point)) return usage_error("--at needs a point: input:NAME, processor:NAME "
                                               "or output:NAME");
    } else if (x == "--where") {
      if (!value(&a.where)) return usage_error("--where needs a condition");
    } else if (x == "--rate") {
      if (!value(&a.rate)) return usage_error("--rate needs events per second");
    } else if (x == "--format") {
      if (!value(&a.format) || (a.format != "json" && a.format != "line")) {
        return usage_error("--format takes json or line");
      }
    } else if (x == "--json") {
      a.format = "json";
    } else if (x == "--count") {
      if (!value(&v) || (a.count = std::atoll(v.c_str())) <= 0) {
        return usage_error("--count takes a positive number");
      }
    } else if (x == "--for") {
      if (!value(&v) || !config::parse_duration(v, &a.duration) || a.duration.count() <= 0) {
        return usage_error("--for takes a duration such as 10s");
      }
    } else {
      a.config_args.push_back(x);
    }
  }
  if (a.point.empty()) return usage_error("--at POINT is required (input:NAME, processor:NAME "
                                          "or output:NAME)");
  auto resolved = resolve_admin_address(a.address, a.config_args);
  if (!resolved.is_ok()) {
    const std::string& error = resolved.status().message();
    if (error == "cannot load the config") return 1;   // its errors are printed
    if (error.starts_with("give either")) return usage_error(error);
    std::fprintf(stderr, "logship tap: %s\n", error.c_str());
    return 1;
  }
  a.address = std::move(resolved).value();
  const Result<int> connected = connect_to(a.address);
  if (!connected.is_ok()) {
    std::fprintf(stderr, "logship tap: cannot connect to %s: %s\n", a.address.c_str(),
                 connected.status().message().c_str());
    return 1;
  }
  const int fd = connected.value();
  std::string target = "/api/tap?point=" + url_encoded(a.point) + "&rate=" + url_encoded(a.rate) +
                       "&format=" + a.format;
  if (!a.where.empty()) target += "&where=" + url_encoded(a.where);
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + a.address +
                              "\r\nUser-Agent: logship-tap\r\nConnection: close\r\n\r\n";
  if (!write_all(fd, request)) {
    std::fprintf(stderr, "logship tap: cannot send to %s: %s\n", a.address.c_str(),
                 std::strerror(errno));
    ::close(fd);
    return 1;
  }
  struct sigaction sa{};
  sa.sa_handler = on_interrupt;
  // Writes to stdout restart (a half-written line is never left); poll() is never restarted,
  // so the loop sees the flag.
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + a.duration;
  std::string buf;
  bool header_done = false;
  int status = 0;
  int64_t lines = 0;
  char chunk[16384];
  while ((a.count == 0 || lines < a.count) && !g_interrupted) {
    int wait_ms = -1;
    if (a.duration.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      wait_ms = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      std::perror("logship tap: poll");
      break;
    }
    if (ready == 0) continue;   // the deadline check above ends it
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;   // the daemon closed (stopping, or it ended the tap)
    buf.append(chunk, static_cast<std::size_t>(n));
    if (!header_done) {
      const std::size_t end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buf.size() > 65536) break;
        continue;
      }
      if (buf.size() > 12 && buf.starts_with("HTTP/1.")) status = std::atoi(buf.c_str() + 9);
      buf.erase(0, end + 4);
      header_done = true;
      if (status != 200) continue;   // the body is the reason: read it to the end
    }
    if (status != 200) continue;
    std::size_t start = 0;
    for (std::size_t nl; (a.count == 0 || lines < a.count) &&
                         (nl = buf.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      std::fwrite(buf.data() + start, 1, nl + 1 - start, stdout);
      ++lines;
    }
    buf.erase(0, start);
    std::fflush(stdout);
  }
  ::close(fd);
  if (!header_done || status != 200) {
    std::fprintf(stderr, "logship tap: http://%s/api/tap answered %d: %s", a.address.c_str(),
                 status, buf.empty() ? "(no reason)\n" : buf.c_str());
    return 1;
  }
  return 0;
}

}  // namespace logship::commands
