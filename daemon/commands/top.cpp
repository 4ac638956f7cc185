// `logship top`: a terminal view of a running daemon, from its /metrics endpoint, refreshed
// every interval: per input and per output rates, queue and buffer fill, lag, retries, dead
// letters, drops and errors; the files furthest behind; the process's CPU, memory and budget.
#include <unistd.h>

#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

#include "daemon/registry/config_loader.h"
#include "config/substitution.h"
#include "daemon/commands/admin_address.h"
#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/commands/prometheus_text.h"

namespace logship::commands {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct TopArgs {
  std::vector<std::string> config_args;
  std::string address;   // host:port
  config::Millis interval{1000};
  int64_t iterations = 0;   // 0: until interrupted
  bool clear = true;
};

// GET /metrics: the page's text.
Result<std::string> fetch_metrics(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  if (!config::parse_listen_address(address, &host, &port)) {
    return Status::invalid("expected host:port, got '" + address + "'");
  }
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, std::to_string(port)));
    http::request<http::empty_body> req(http::verb::get, "/metrics", 11);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "logship-top");
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(stream, buffer, parser);
    if (parser.get().result() != http::status::ok) {
      return Status::unavailable("/metrics answered " + std::to_string(parser.get().result_int()));
    }
    return parser.release().body();
  } catch (const std::exception& e) {
    return Status::unavailable(e.what());
  }
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return out;
}

std::string human_count(double v) {
  char out[32];
  if (v >= 1e6) {
    std::snprintf(out, sizeof out, "%.2fM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(out, sizeof out, "%.1fk", v / 1e3);
  } else {
    std::snprintf(out, sizeof out, "%.0f", v);
  }
  return out;
}

// name -> label value -> summed value: e.g. sums["logship_input_events_total"]["gen"].
using Sums = std::map<std::string, std::map<std::string, double>>;

struct Snapshot {
  std::chrono::steady_clock::time_point at;
  Sums by_component;                       // summed over every other label
  std::map<std::string, std::string> types;   // "input/gen" -> generate
  std::vector<Sample> samples;
};

Snapshot take(const std::string& text) {
  Snapshot s;
  s.at = std::chrono::steady_clock::now();
  s.samples = parse_prometheus_text(text);
  for (const Sample& x : s.samples) {
    for (const char* key : {"input", "output"}) {
      const std::string v = x.label(key);
      if (v.empty()) continue;
      s.by_component[x.name][std::string(key) + "/" + v] += x.value;
      const std::string t = x.label("type");
      if (!t.empty()) s.types[std::string(key) + "/" + v] = t;
    }
  }
  return s;
}

double get(const Sums& s, const std::string& metric, const std::string& component) {
  auto m = s.find(metric);
  if (m == s.end()) return 0;
  auto c = m->second.find(component);
  return c == m->second.end() ? 0 : c->second;
}

double scalar(const Snapshot& s, const std::string& name) {
  double v = 0;
  for (const Sample& x : s.samples) {
    if (x.name == name) v += x.value;
  }
  return v;
}

void render(const std::string& address, const Snapshot& prev, const Snapshot& cur, bool clear) {
  const double dt = std::max(1e-3, std::chrono::duration<double>(cur.at - prev.at).count());
  auto rate = [&](const std::string& metric, const std::string& c) {
    return std::max(0.0, (get(cur.by_component, metric, c) - get(prev.by_component, metric, c)) / dt);
  };
  std::string out;
  if (clear) out += "\033[H\033[2J";
  char line[512];
  std::snprintf(line, sizeof line, "logship top  %s  (every %.1fs)\n\n", address.c_str(), dt);
  out += line;
  std::vector<std::string> inputs, outputs;
  for (const auto& [c, t] : cur.types) (c.rfind("input/", 0) == 0 ? inputs : outputs).push_back(c);
  std::snprintf(line, sizeof line, "%-20s %-14s %10s %12s %12s %10s %8s\n", "INPUT", "TYPE",
                "EVENTS/s", "BYTES/s", "LAG", "LOST", "ERRORS");
  out += line;
  for (const std::string& c : inputs) {
    const double errors = get(cur.by_component, "logship_input_fs_errors_total", c) +
                          get(cur.by_component, "logship_input_malformed_total", c);
    std::snprintf(line, sizeof line, "%-20s %-14s %10s %12s %12s %10s %8s\n",
                  c.substr(6).c_str(), cur.types.at(c).c_str(),
                  human_count(rate("logship_input_events_total", c)).c_str(),
                  (human_bytes(rate("logship_input_bytes_total", c)) + "/s").c_str(),
                  human_bytes(get(cur.by_component, "logship_input_file_lag_bytes", c)).c_str(),
                  human_bytes(get(cur.by_component, "logship_input_lost_bytes_total", c)).c_str(),
                  human_count(errors).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "\n%-20s %-14s %10s %12s %10s %10s %9s %8s\n", "OUTPUT", "TYPE",
                "EVENTS/s", "BYTES/s", "QUEUE", "BUFFER", "RETRIES/s", "DEAD");
  out += line;
  for (const std::string& c : outputs) {
    const double dead = get(cur.by_component, "logship_output_dead_lettered_total", c) +
                        get(cur.by_component, "logship_output_dropped_events_total", c);
    char retries[32];
    std::snprintf(retries, sizeof retries, "%.1f", rate("logship_output_retries_total", c));
    std::snprintf(line, sizeof line, "%-20s %-14s %10s %12s %10s %10s %9s %8s\n",
                  c.substr(7).c_str(), cur.types.at(c).c_str(),
                  human_count(rate("logship_output_events_total", c)).c_str(),
                  (human_bytes(rate("logship_output_bytes_total", c)) + "/s").c_str(),
                  human_bytes(get(cur.by_component, "logship_output_queue_bytes", c)).c_str(),
                  human_bytes(get(cur.by_component, "logship_output_buffer_bytes", c)).c_str(),
                  retries, human_count(dead).c_str());
    out += line;
  }
  // The files furthest behind: where a container's lines wait.
  std::vector<std::pair<double, std::string>> lag;
  for (const Sample& x : cur.samples) {
    if (x.name == "logship_input_file_lag_bytes" && x.value > 0) lag.emplace_back(x.value, x.label("file"));
  }
  std::sort(lag.rbegin(), lag.rend());
  if (!lag.empty()) {
    out += "\nFURTHEST BEHIND\n";
    for (std::size_t i = 0; i < lag.size() && i < 5; ++i) {
      std::snprintf(line, sizeof line, "  %12s  %s\n", human_bytes(lag[i].first).c_str(),
                    lag[i].second.c_str());
      out += line;
    }
  }
  const double cpu = (scalar(cur, "process_cpu_seconds_total") -
                      scalar(prev, "process_cpu_seconds_total")) / dt * 100;
  std::snprintf(line, sizeof line,
                "\nprocess: cpu %.1f%%  rss %s  open fds %.0f  memory budget %s of %s\n", cpu,
                human_bytes(scalar(cur, "process_resident_memory_bytes")).c_str(),
                scalar(cur, "process_open_fds"),
                human_bytes(scalar(cur, "logship_memory_bytes")).c_str(),
                human_bytes(scalar(cur, "logship_memory_limit_bytes")).c_str());
  out += line;
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "logship top: %s\n(logship top --help)\n", why.c_str());
  return 2;
}

}  // namespace

int top(const std::vector<std::string>& args) {
  TopArgs a;
  a.clear = ::isatty(STDOUT_FILENO) != 0;
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
    } else if (x == "--interval") {
      if (!value(&v) || !config::parse_duration(v, &a.interval) || a.interval.count() < 100) {
        return usage_error("--interval takes a duration of at least 100ms");
      }
    } else if (x == "--iterations") {
      if (!value(&v) || (a.iterations = std::atoll(v.c_str())) <= 0) {
        return usage_error("--iterations takes a positive number");
      }
    } else if (x == "--no-clear") {
      a.clear = false;
    } else {
      a.config_args.push_back(x);
    }
  }
  {
    auto resolved = resolve_admin_address(a.address, a.config_args);
    if (!resolved.is_ok()) {
      const std::string& error = resolved.status().message();
      if (error == "cannot load the config") return 1;   // its errors are printed
      std::fprintf(stderr, "logship top: %s\n", error.c_str());
      return error.starts_with("give either") ? 2 : 1;
    }
    a.address = std::move(resolved).value();
  }
  // The current page, or nullopt after saying why not.
  auto fetch = [&a]() -> std::optional<std::string> {
    Result<std::string> text = fetch_metrics(a.address);
    if (!text.is_ok()) {
      std::fprintf(stderr, "logship top: cannot read http://%s/metrics: %s\n", a.address.c_str(),
                   text.status().message().c_str());
      return std::nullopt;
    }
    return std::move(text).value();
  };
  std::optional<std::string> text = fetch();
  if (!text) return 1;
  Snapshot prev = take(*text);
  for (int64_t n = 0; a.iterations == 0 || n < a.iterations; ++n) {
    std::this_thread::sleep_for(a.interval);
    text = fetch();
    if (!text) return 1;
    Snapshot cur = take(*text);
    render(a.address, prev, cur, a.clear);
    prev = std::move(cur);
  }
  return 0;
}

}  // namespace logship::commands
