#pragma once
// Internal logging: one logfmt line per message on stderr, e.g.
// ts=2026-11-23T10:00:00.000000000Z level=warn component=file msg="rotate failed" path=/x
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace logship::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

bool parse_level(std::string_view s, Level* out);
void set_level(Level l);

// logfmt (the default) or one JSON object per line with the same keys, for log stacks that
// parse JSON (logship's own logs shipped by logship, Loki, Elasticsearch).
enum class Format : int { kLogfmt = 0, kJson = 1 };
bool parse_format(std::string_view s, Format* out);
void set_format(Format f);
// The logfmt key=value pairs of `kvs` (as kv() makes them) appended to `out` as JSON members,
// each preceded by a comma: values kv() quoted are JSON strings already, bare whole numbers
// stay numbers, other bare values become strings.
void append_kvs_as_json(std::string& out, std::string_view kvs);
bool enabled(Level l);
// `kv` is appended as is: " key=value key2=value2" (use kv() to quote values).
void write(Level l, std::string_view component, std::string_view msg, std::string_view kv = {});
// ` key="value"` with quotes and escapes as needed.
std::string kv(std::string_view key, std::string_view value);
std::string kv(std::string_view key, int64_t value);

inline void debug(std::string_view c, std::string_view m, std::string_view kv = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, c, m, kv);
}
inline void info(std::string_view c, std::string_view m, std::string_view kv = {}) {
  if (enabled(Level::kInfo)) write(Level::kInfo, c, m, kv);
}
inline void warn(std::string_view c, std::string_view m, std::string_view kv = {}) {
  if (enabled(Level::kWarn)) write(Level::kWarn, c, m, kv);
}
inline void error(std::string_view c, std::string_view m, std::string_view kv = {}) {
  write(Level::kError, c, m, kv);
}

// Lets at most `burst` messages through per `period`; the next one allowed reports how many were
// suppressed in between. Thread-safe.
class RateLimit {
 public:
  explicit RateLimit(int burst = 5, std::chrono::seconds period = std::chrono::seconds(10))
      : burst_(burst), period_(period) {}
  // True when the caller may log; *suppressed gets the count dropped since the last allowed one.
  bool allow(uint64_t* suppressed);

 private:
  const int burst_;
  const std::chrono::seconds period_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point window_start_{};
  int used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace logship::log
