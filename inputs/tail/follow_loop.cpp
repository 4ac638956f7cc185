#include "inputs/tail/follow_loop.h"

#include <malloc.h>

#include <algorithm>

#include "daemon/core/block_pool.h"

namespace logship::tail {

// How often parked files with an event get a descriptor back (a stat each).
static constexpr auto kUnparkInterval = std::chrono::milliseconds(100);
// Without inotify (or with a directory it refused): how often every file is read, and the
// longest time between scans, whatever rescan_interval says: new files are found in time.
static constexpr auto kPollPeriod = std::chrono::milliseconds(250);
static constexpr auto kPollingRescan = std::chrono::milliseconds(1000);
// While files drain after a rotation or wait for a descriptor: how often they are looked at.
static constexpr auto kBusyPeriod = std::chrono::milliseconds(100);
// Files wait for others to go to sleep (max_awake): those wait only for their deliveries.
static constexpr auto kWavePeriod = std::chrono::milliseconds(10);
// After files went to sleep (their decoders and streams freed), the heap is trimmed at most
// this often, and only once nothing is being read.
static constexpr auto kTrimInterval = std::chrono::seconds(10);
// The longest sleep: a stop is polled (InputContext::stopping), not signalled.
static constexpr auto kStopCheck = std::chrono::milliseconds(250);

void follow(Tailer& tailer, DirWatch& watch, Discovery& discovery, InputContext& ctx,
            const LoopOptions& o) {
  TimePoint next_scan{};
  TimePoint next_unpark{};
  TimePoint next_poll{};
  TimePoint next_trim{};
  uint64_t slept_at_trim = 0;
  bool rescan = true;
  bool full_scan = true;   // else only the directories with events
  std::set<std::string> dirs;
  bool finished_reported = false;
  const DirWatch::OnChange on_change = [&tailer](const std::string& path) {
    return tailer.changed(path);
  };
  while (!ctx.stopping() && !tailer.aborted()) {
    TimePoint now = SteadyClock::now();
    const bool polling = !watch.healthy();
    if (rescan || now >= next_scan) {
      rescan = false;
      if (watch.take_scan(&dirs) || polling || now >= next_scan) full_scan = true;
      if (full_scan) {
        full_scan = false;
        discovery.scan();   // every file gets a read
        const auto period = polling ? std::min<std::chrono::milliseconds>(o.rescan_interval,
                                                                           kPollingRescan)
                                    : o.rescan_interval;
        next_scan = SteadyClock::now() + period;
      } else {
        discovery.scan_dirs(dirs);   // the period of complete scans runs on
      }
    }
    if (polling && now >= next_poll) {
      tailer.all_changed();
      next_poll = now + kPollPeriod;
    }
    if (now >= next_unpark) {
      tailer.unpark_round();
      next_unpark = now + kUnparkInterval;
    }
    bool progress = tailer.read_round();
    if (tailer.over_budget()) rescan = full_scan = true;   // files elsewhere wait to be opened
    now = SteadyClock::now();
    tailer.housekeeping(now);
    discovery.tick(now);
    if (o.exit_at_eof && !finished_reported && tailer.scanned_once() && !progress &&
        tailer.all_idle()) {
      finished_reported = true;
      tailer.log().info("all files read to their end");
      ctx.finished();
    }
    if (progress) {
      if (watch.wait(0, on_change)) rescan = true;
      continue;
    }
    // Thousands of files that caught up and went to sleep leave their decoders', streams' and
    // batches' memory in free chunks between live ones: glibc gives such pages back only when
    // asked (malloc_trim releases free pages anywhere in the heap, not just at its top). The
    // batch blocks kept for reuse go back too: a node gone quiet needs none of them.
    if (tailer.slept() != slept_at_trim && now >= next_trim && !tailer.busy()) {
      slept_at_trim = tailer.slept();
      next_trim = now + kTrimInterval;
      ::malloc_trim(0);
      BlockPool::global().release_kept();
    }
    // Idle: sleep until a file changes, a timer is due, or files wait for their turn.
    TimePoint wake = next_scan;
    if (polling) wake = std::min(wake, next_poll);
    if (tailer.busy()) wake = std::min(wake, now + (tailer.deferring() ? kWavePeriod : kBusyPeriod));
    if (auto f = tailer.next_flush()) wake = std::min(wake, *f);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    // Capped so a stop is seen in time (ctx.stopping() is polled).
    if (watch.wait(static_cast<int>(std::clamp<int64_t>(ms, 0, kStopCheck.count())), on_change)) {
      rescan = true;
    }
  }
  tailer.flush_all();
}

}  // namespace logship::tail
