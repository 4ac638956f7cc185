#pragma once
// inotify on the directories discovery lists: it decides what the follow loop does. A file
// modified in a watched directory is named to the tailer (read it); a file created, deleted or
// moved asks for a scan of its directory, a queue overflow for a complete one. A file with no
// event is neither read nor stat'ed. Watches are on directories only: IN_MODIFY of a file is reported on its directory
// with its name, so one watch per directory covers every file in it.
//
// Without inotify (unavailable, or out of watches: max_user_watches) the watch is degraded:
// logged once, counted, and the follow loop polls every file and rescans often instead.
#include <sys/inotify.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <set>
#include <string_view>
#include <unordered_map>

#include "daemon/core/plugin_context.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"

namespace logship::tail {

class DirWatch {
 public:
  // A directory of directories; a directory of log files.
  static constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
  static constexpr uint32_t kLeafMask = kDirMask | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB;

  // `input` names the log lines and labels the metrics.
  explicit DirWatch(const PluginContext& input);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  void watch(const std::string& dir, uint32_t mask);
  // The directory is gone: the kernel dropped its watch.
  void forget(const std::string& dir);
  // False when some change may go unreported: inotify unavailable or a watch refused.
  bool healthy() const { return fd_ >= 0 && !degraded_; }

  // A file in a watched directory changed ("<dir>/<name>"): true if the tailer follows it.
  // The path is only valid during the call.
  using OnChange = std::function<bool(const std::string& path)>;
  // Waits up to timeout_ms for events and reports them; true if one asks for a scan: a file
  // created, deleted or moved, a change to a file nobody follows being finished (metadata
  // written in place), a watched directory gone, or a queue overflow (events were lost).
  bool wait(int timeout_ms, const OnChange& on_change);
  // What the scans asked for since the last call: the directories to list again, and whether
  // only a complete scan will do (an overflow). Forgets them.
  bool take_scan(std::set<std::string>* dirs);

  uint64_t overflows() const { return overflows_; }

 private:
  void degrade(const std::string& why, const std::string& dir, int err);

  const ComponentLog log_;
  int fd_ = -1;
  bool degraded_ = false;
  uint64_t overflows_ = 0;
  std::unordered_map<int, std::string> dirs_;           // wd -> dir
  // dir -> wd, its keys viewing dirs_' strings (stable: nodes do not move): one copy of each
  // path, 10,000 container directories.
  std::unordered_map<std::string_view, int> watched_;
  std::string path_;                               // scratch: "<dir>/<name>" of an event
  std::set<std::string> changed_dirs_;             // to list again
  bool full_scan_ = false;                         // events were lost
  std::atomic<uint64_t>* fallback_metric_ = nullptr;
  std::atomic<uint64_t>* overflow_metric_ = nullptr;
  log::RateLimit overflow_limit_{5, std::chrono::seconds(60)};
};

}  // namespace logship::tail
