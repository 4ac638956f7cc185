#pragma once
// A component's own log lines: each carries the component's field (` output="name"`) after its
// message, so a reader can tell two outputs of one type apart. Lines an event or a peer can
// repeat go through a log::RateLimit of the caller's (one per kind of line, so a flood of one
// kind does not hide another); the next line let through says how many were suppressed. Made
// from the plugin's context, as its ComponentMetrics are.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/plugin_context.h"
#include "daemon/runtime/log.h"

namespace logship {

class ComponentLog {
 public:
  // `component` is the lines' component= (what kind of code speaks): the plugin's type unless
  // given, e.g. the tailer shared by the docker and file inputs says which one it serves.
  explicit ComponentLog(const PluginContext& ctx, std::string component = {})
      : component_(component.empty() ? ctx.type : std::move(component)),
        fields_(log::kv(kind_name(ctx.kind), ctx.name)) {}

  // Lines of the component's life (listening, stopped, reconnecting): always written.
  void debug(std::string_view msg, std::string_view kv = {}) const {
    write(log::Level::kDebug, msg, kv);
  }
  void info(std::string_view msg, std::string_view kv = {}) const {
    write(log::Level::kInfo, msg, kv);
  }
  void warn(std::string_view msg, std::string_view kv = {}) const {
    write(log::Level::kWarn, msg, kv);
  }
  void error(std::string_view msg, std::string_view kv = {}) const {
    write(log::Level::kError, msg, kv);
  }

  // Lines an event or a peer can repeat: false when `limit` suppressed the line.
  bool info(log::RateLimit& limit, std::string_view msg, std::string_view kv = {}) const {
    return write_limited(log::Level::kInfo, limit, msg, kv);
  }
  bool warn(log::RateLimit& limit, std::string_view msg, std::string_view kv = {}) const {
    return write_limited(log::Level::kWarn, limit, msg, kv);
  }
  bool error(log::RateLimit& limit, std::string_view msg, std::string_view kv = {}) const {
    return write_limited(log::Level::kError, limit, msg, kv);
  }

  const std::string& component() const { return component_; }
  // ` output="name"`: the field every line carries.
  const std::string& fields() const { return fields_; }

 private:
  void write(log::Level level, std::string_view msg, std::string_view kv) const {
    if (!log::enabled(level)) return;
    std::string line = fields_;
    line += kv;
    log::write(level, component_, msg, line);
  }
  bool write_limited(log::Level level, log::RateLimit& limit, std::string_view msg,
                     std::string_view kv) const {
    if (!log::enabled(level)) return false;
    uint64_t suppressed = 0;
    if (!limit.allow(&suppressed)) return false;
    std::string line = fields_;
    line += kv;
    if (suppressed > 0) line += log::kv("suppressed", static_cast<int64_t>(suppressed));
    log::write(level, component_, msg, line);
    return true;
  }

  std::string component_;
  std::string fields_;
};

}  // namespace logship
