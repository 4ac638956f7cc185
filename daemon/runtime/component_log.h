#pragma once
// A component's own log lines: each carries the component's field (` processor="name"`), and
// they are rate-limited per component, so a stream of bad events cannot flood the log; the next
// line let through says how many were suppressed. Made from the plugin's context, as its
// ComponentMetrics are.
#include <chrono>
#include <string>
#include <string_view>

#include "daemon/core/plugin_context.h"
#include "daemon/runtime/log.h"

namespace logship {

class ComponentLog {
 public:
  explicit ComponentLog(const PluginContext& ctx, int burst = 5,
                        std::chrono::seconds period = std::chrono::seconds(10))
      : fields_(log::kv(kind_name(ctx.kind), ctx.name)), limit_(burst, period) {}

  // `component` is the log line's component (the plugin type, e.g. "timestamp"); `kv` the
  // line's own fields (log::kv()). False when the line was suppressed.
  bool warn(std::string_view component, std::string_view msg, std::string_view kv = {}) const {
    return write(log::Level::kWarn, component, msg, kv);
  }
  bool error(std::string_view component, std::string_view msg, std::string_view kv = {}) const {
    return write(log::Level::kError, component, msg, kv);
  }
  // ` processor="name"`: for a line that must not be rate-limited.
  const std::string& fields() const { return fields_; }

 private:
  bool write(log::Level level, std::string_view component, std::string_view msg,
             std::string_view kv) const {
    if (!log::enabled(level)) return false;
    uint64_t suppressed = 0;
    if (!limit_.allow(&suppressed)) return false;
    std::string line = fields_;
    line += kv;
    if (suppressed > 0) line += log::kv("suppressed", static_cast<int64_t>(suppressed));
    log::write(level, component, msg, line);
    return true;
  }

  const std::string fields_;
  mutable log::RateLimit limit_;
};

}  // namespace logship
