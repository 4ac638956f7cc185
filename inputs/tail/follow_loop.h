#pragma once
// The thread of an input built on the tailer: scans when inotify or the rescan period says so,
// reads every file in turn while there is data, sleeps on inotify when there is none. emit()
// blocking on full outputs is the backpressure (the file is the buffer).
#include <chrono>
#include <set>
#include <string>

#include "daemon/core/clock.h"
#include "daemon/core/plugin_api.h"
#include "inputs/tail/dir_watch.h"
#include "inputs/tail/tailer.h"

namespace logship::tail {

// The input above the tailer: what files there are, and what it does once per loop.
class Discovery {
 public:
  virtual ~Discovery() = default;
  // One complete scan: Tailer::begin_scan(), active()/rotated()..., end_scan().
  virtual void scan() = 0;
  // A scan of what changed in `dirs` (inotify: files created, moved, deleted there); what
  // is elsewhere is kept (Tailer::unlisted_dir). A complete scan unless overridden.
  virtual void scan_dirs(const std::set<std::string>& dirs) { scan(); }
  // After each read round and housekeeping (publishing counters...).
  virtual void tick(TimePoint now) {}
};

struct LoopOptions {
  std::chrono::milliseconds rescan_interval{60000};
  bool exit_at_eof = false;
};

// Runs until the input is stopping or an emit failed; flushes every stream at the end.
void follow(Tailer& tailer, DirWatch& watch, Discovery& discovery, InputContext& ctx,
            const LoopOptions& o);

}  // namespace logship::tail
