#include "daemon/runtime/log.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "daemon/core/clock.h"
#include "daemon/core/json_writer.h"

namespace logship::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kLogfmt)};
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

bool parse_format(std::string_view s, Format* out) {
  if (s == "logfmt") {
    *out = Format::kLogfmt;
  } else if (s == "json") {
    *out = Format::kJson;
  } else {
    return false;
  }
  return true;
}

void set_format(Format f) { g_format.store(static_cast<int>(f), std::memory_order_relaxed); }

void append_kvs_as_json(std::string& out, std::string_view kvs) {
  std::size_t i = 0;
  while (i < kvs.size()) {
    while (i < kvs.size() && kvs[i] == ' ') ++i;
    std::size_t eq = kvs.find('=', i);
    if (i >= kvs.size() || eq == std::string_view::npos) break;
    out.push_back(',');
    json::append_string(out, kvs.substr(i, eq - i));
    out.push_back(':');
    i = eq + 1;
    if (i < kvs.size() && kvs[i] == '"') {
      // A JSON string as kv() wrote it: copy up to its closing quote.
      std::size_t j = i + 1;
      while (j < kvs.size() && kvs[j] != '"') j += kvs[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, kvs.size());
      out.append(kvs.substr(i, j - i));
      if (j > i + 1 && kvs[j - 1] != '"') out.push_back('"');   // cut short: still valid JSON
      i = j;
      continue;
    }
    std::size_t end = kvs.find(' ', i);
    if (end == std::string_view::npos) end = kvs.size();
    std::string_view v = kvs.substr(i, end - i);
    bool number = !v.empty() && v.size() < 19;
    for (std::size_t k = 0; k < v.size() && number; ++k) {
      number = std::isdigit(static_cast<unsigned char>(v[k])) || (k == 0 && v[k] == '-' && v.size() > 1);
    }
    if (number) {
      out.append(v);
    } else {
      json::append_string(out, v);
    }
    i = end;
  }
}

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
  if (g_format.load(std::memory_order_relaxed) == static_cast<int>(Format::kJson)) {
    line.append("{\"ts\":\"");
    json::append_rfc3339(line, wall_now_ns());
    line.append("\",\"level\":\"");
    line.append(level_name(l));
    line.append("\",\"component\":");
    json::append_string(line, component);
    line.append(",\"msg\":");
    json::append_string(line, msg);
    append_kvs_as_json(line, kvs);
    line.append("}\n");
  } else {
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
  }
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
