#include "inputs/tail/follow_loop.h"

#include <algorithm>

#include "daemon/runtime/log.h"

namespace logship::tail {

// How often parked files are checked for growth (a stat each).
static constexpr auto kUnparkInterval = std::chrono::milliseconds(100);
// The longest sleep: inotify misses changes on some filesystems.
static constexpr auto kPollPeriod = std::chrono::milliseconds(250);

void follow(Tailer& tailer, DirWatch& watch, Discovery& discovery, InputContext& ctx,
            const LoopOptions& o) {
  TimePoint next_scan{};
  TimePoint next_unpark{};
  bool rescan = true;
  bool finished_reported = false;
  while (!ctx.stopping() && !tailer.aborted()) {
    TimePoint now = SteadyClock::now();
    if (rescan || now >= next_scan) {
      rescan = false;
      discovery.scan();
      next_scan = SteadyClock::now() + o.rescan_interval;
    }
    if (now >= next_unpark) {
      tailer.unpark_round();
      next_unpark = now + kUnparkInterval;
    }
    bool progress = tailer.read_round();
    if (tailer.over_budget()) rescan = true;
    now = SteadyClock::now();
    tailer.housekeeping(now);
    discovery.tick(now);
    if (o.exit_at_eof && !finished_reported && tailer.scanned_once() && !progress &&
        tailer.all_idle()) {
      finished_reported = true;
      log::info(o.component, "all files read to their end", log::kv("input", ctx.name()));
      ctx.finished();
    }
    if (progress) {
      if (watch.wait(0)) rescan = true;
      continue;
    }
    // Idle: sleep until a file changes, a timer is due, or a poll period passed.
    TimePoint wake = std::min(next_scan, now + kPollPeriod);
    if (auto f = tailer.next_flush()) wake = std::min(wake, *f);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    if (watch.wait(static_cast<int>(std::clamp<int64_t>(ms, 0, kPollPeriod.count())))) {
      rescan = true;
    }
  }
  tailer.flush_all();
}

}  // namespace logship::tail
