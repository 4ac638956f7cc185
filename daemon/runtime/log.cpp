#include "daemon/runtime/log.h"

#include <unistd.h>

#include "daemon/core/clock.h"
#include "daemon/core/json_writer.h"

namespace logship::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_write_mu;

std::string_view level_name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x21) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool parse_level(std::string_view s, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (s == level_name(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void set_level(Level l) { g_level.store(static_cast<int>(l), std::memory_order_relaxed); }

bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

std::string kv(std::string_view key, std::string_view value) {
  std::string out(" ");
  out.append(key);
  out.push_back('=');
  if (needs_quotes(value)) {
    json::append_string(out, value);
  } else {
    out.append(value);
  }
  return out;
}

std::string kv(std::string_view key, int64_t value) {
  return " " + std::string(key) + "=" + std::to_string(value);
}

void write(Level l, std::string_view component, std::string_view msg, std::string_view kvs) {
  std::string line;
  line.reserve(96 + msg.size() + kvs.size());
  line.append("ts=");
  json::append_rfc3339(line, wall_now_ns());
  line.append(" level=");
  line.append(level_name(l));
  line.append(" component=");
  line.append(component);
  line.append(" msg=");
  json::append_string(line, msg);
  line.append(kvs);
  line.push_back('\n');
  std::lock_guard lock(g_write_mu);
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(2, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

bool RateLimit::allow(uint64_t* suppressed) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= period_) {
    window_start_ = now;
    used_ = 0;
  }
  if (used_ < burst_) {
    ++used_;
    *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  return false;
}

}  // namespace logship::log
