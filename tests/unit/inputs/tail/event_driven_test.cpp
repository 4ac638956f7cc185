// Event-driven reading: a file is read when inotify (DirWatch) names it, a scan happens, or it
// still has data; a quiet file is not touched. A lost event (queue overflow) costs a scan,
// never a line. Real inotify on a temporary directory, driven by hand like the follow loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "daemon/runtime/metrics.h"

#include "inputs/tail/dir_watch.h"
#include "tests/unit/inputs/tail/tail_test_util.h"

namespace logship::tail::testing {
namespace {

namespace fs = std::filesystem;

class EventDrivenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/logship-events-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    log = dir + "/app.log";
  }
  void TearDown() override { fs::remove_all(dir); }

  // What the follow loop does with the events that are there: changed files queued, a scan
  // when asked for (or when the last one left files unopened for the budget). True if the
  // events asked for a scan.
  static bool take_events(DirWatch& w, Harness& h) {
    const bool rescan = w.wait(0, [&](const std::string& path) { return h.tailer->changed(path); });
    if (rescan || h.tailer->over_budget()) h.scan();
    return rescan;
  }
  static void read_all(Harness& h) {
    h.tailer->unpark_round();
    while (h.tailer->read_round()) {
    }
    h.tailer->housekeeping(SteadyClock::now());
  }

  std::string dir, log;
};

TEST_F(EventDrivenTest, AFileIsReadWhenAnEventNamesItAndOnlyThen) {
  const std::string other = dir + "/other.log";
  append(log, numbered("a", 1, 3));
  append(other, numbered("o", 1, 3));
  Harness h(dir);
  h.pump(1);
  ASSERT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 3), numbered_lines("o", 1, 3))));
  EXPECT_FALSE(h.tailer->busy());   // both at their end: nothing queued

  // Written, but no event reached the tailer: not read (not even stat'ed).
  append(log, numbered("a", 4, 6));
  read_all(h);
  EXPECT_EQ(h.delivered().lines.size(), 6u);

  // An event for another path changes nothing; one for the file reads it.
  EXPECT_FALSE(h.tailer->changed(dir + "/unknown.log"));
  EXPECT_TRUE(h.tailer->changed(log));
  read_all(h);
  EXPECT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 6), numbered_lines("o", 1, 3))));
  EXPECT_FALSE(h.tailer->busy());
}

TEST_F(EventDrivenTest, InotifyNamesTheModifiedFileAndAsksForAScanOnCreate) {
  append(log, numbered("a", 1, 3));
  Harness h(dir);
  DirWatch w(PluginContext{PluginKind::kInput, "t", "file"});
  ASSERT_TRUE(w.healthy());
  w.watch(dir, DirWatch::kLeafMask);
  h.pump(1);
  ASSERT_FALSE(take_events(w, h));   // nothing happened since

  append(log, numbered("a", 4, 5));
  EXPECT_FALSE(take_events(w, h));   // a modification: no scan, the file is queued
  EXPECT_TRUE(h.tailer->busy());
  read_all(h);
  EXPECT_TRUE(exactly_once(h.delivered(), numbered_lines("a", 1, 5)));

  append(dir + "/new.log", numbered("n", 1, 2));
  EXPECT_TRUE(take_events(w, h));    // a new file: scanned, opened, read
  read_all(h);
  EXPECT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 5), numbered_lines("n", 1, 2))));
  EXPECT_EQ(w.overflows(), 0u);
}

// More events than the queue holds while the reader is away: the kernel drops the rest (a new
// file's creation among them) and reports an overflow, which is answered by a full scan.
TEST_F(EventDrivenTest, QueueOverflowFallsBackToAScanAndLosesNothing) {
  long max_queued = 16384;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> max_queued;
  const std::string other = dir + "/other.log";
  append(log, "");
  append(other, "");
  Harness h(dir);
  DirWatch w(PluginContext{PluginKind::kInput, "t", "file"});
  ASSERT_TRUE(w.healthy());
  w.watch(dir, DirWatch::kLeafMask);
  h.pump(1);

  // One line per write, alternating files: no two consecutive events are alike, so the kernel
  // merges none of them.
  int a = ::open(log.c_str(), O_WRONLY | O_APPEND);
  int b = ::open(other.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  const int lines = static_cast<int>(max_queued / 2 + 1000);
  std::vector<std::string> want;
  for (int i = 1; i <= lines; ++i) {
    for (auto [fd, prefix] : {std::pair{a, "a"}, std::pair{b, "o"}}) {
      const std::string l = numbered(prefix, i, i);
      ASSERT_EQ(::write(fd, l.data(), l.size()), static_cast<ssize_t>(l.size()));
    }
  }
  ::close(a);
  ::close(b);
  append(dir + "/late.log", numbered("late", 1, 3));   // its IN_CREATE is lost
  EXPECT_TRUE(take_events(w, h));
  EXPECT_EQ(w.overflows(), 1u);
  read_all(h);
  EXPECT_TRUE(exactly_once(h.delivered(), concat(concat(numbered_lines("a", 1, lines),
                                                        numbered_lines("o", 1, lines)),
                                                 numbered_lines("late", 1, 3))));
}

// max_open_files = 1: the quiet file is closed for the other. It is rotated while closed
// (renamed with lines it had not read, a new file at its path); its directory's events reopen
// it by identity (device, inode, first bytes) and resume it at its offset, then the new file.
TEST_F(EventDrivenTest, ClosedForTheBudgetReopenedByEventsAcrossARotation) {
  TailerOptions o;
  o.max_open_files = 1;
  const std::string other = dir + "/other.log";
  append(log, numbered("a", 1, 5));
  append(other, numbered("o", 1, 5));
  Harness h(dir, o);
  DirWatch w(PluginContext{PluginKind::kInput, "t", "file"});
  w.watch(dir, DirWatch::kLeafMask);
  h.pump();
  ASSERT_EQ(h.tailer->open_files(), 1u);
  ASSERT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 5), numbered_lines("o", 1, 5))));
  take_events(w, h);
  read_all(h);

  // Growth of a closed file: the event reopens it, at its offset.
  append(log, numbered("a", 6, 7));
  append(other, numbered("o", 6, 7));
  take_events(w, h);
  for (int i = 0; i < 4; ++i) read_all(h);
  EXPECT_LE(h.tailer->open_files(), 1u);
  EXPECT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 7), numbered_lines("o", 1, 7))));

  // Rotated while closed: whichever of the two is closed now, both are.
  for (const std::string& p : {log, other}) {
    append(p, numbered(p == log ? "a" : "o", 8, 9));
    fs::rename(p, p + ".1");
    append(p, numbered(p == log ? "a2-" : "o2-", 1, 4));
  }
  for (int i = 0; i < 6; ++i) {
    take_events(w, h);
    read_all(h);
  }
  EXPECT_LE(h.tailer->open_files(), 1u);
  EXPECT_TRUE(exactly_once(
      h.delivered(), concat(concat(numbered_lines("a", 1, 9), numbered_lines("a2-", 1, 4)),
                            concat(numbered_lines("o", 1, 9), numbered_lines("o2-", 1, 4)))));
}

// A partial scan (the directories inotify named) judges only the files directly in them: a
// rotation there is followed; a file deleted elsewhere is left to a complete scan.
TEST_F(EventDrivenTest, APartialScanJudgesOnlyItsDirectories) {
  const std::string a = dir + "/a", b = dir + "/b";
  fs::create_directories(a + "/deeper");
  fs::create_directory(b);
  append(a + "/app.log", numbered("a", 1, 3));
  append(a + "/deeper/app.log", numbered("d", 1, 3));
  append(b + "/app.log", numbered("b", 1, 3));
  Harness h(dir);
  auto scan = [&](const std::set<std::string>* only) {
    h.tailer->begin_scan(only);
    for (const std::string& d : {a, a + "/deeper", b}) {
      if (only != nullptr && !only->count(d)) continue;
      if (fs::exists(d + "/app.log")) h.tailer->active(d + "/app.log", d);
      if (fs::exists(d + "/app.log.1")) h.tailer->rotated(d + "/app.log.1", d);
    }
    h.tailer->end_scan();
    read_all(h);
  };
  scan(nullptr);
  ASSERT_EQ(h.tailer->files(), 3u);
  // a/app.log rotated; b/app.log and a/deeper/app.log deleted: only a is scanned.
  append(a + "/app.log", numbered("a", 4, 5));
  fs::rename(a + "/app.log", a + "/app.log.1");
  append(a + "/app.log", numbered("a2-", 1, 2));
  fs::remove(b + "/app.log");
  fs::remove(a + "/deeper/app.log");
  const std::set<std::string> only{a};
  scan(&only);
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(concat(numbered_lines("a", 1, 5), numbered_lines("a2-", 1, 2)),
                                  concat(numbered_lines("d", 1, 3), numbered_lines("b", 1, 3)))));
  // a's old file drained (released: rotate_wait 0), its new one followed; the two deleted
  // files elsewhere still followed until a complete scan.
  EXPECT_EQ(h.tailer->files(), 3u);
  scan(nullptr);
  EXPECT_EQ(h.tailer->files(), 1u);
}

TEST_F(EventDrivenTest, AWatchThatCannotBeAddedIsNotADegradation) {
  DirWatch w(PluginContext{PluginKind::kInput, "t", "file"});
  ASSERT_TRUE(w.healthy());
  w.watch(dir + "/missing", DirWatch::kLeafMask);   // gone since listed: the scan knows
  EXPECT_TRUE(w.healthy());
  append(log, "x\n");
  w.watch(log, DirWatch::kLeafMask);   // not a directory (IN_ONLYDIR)
  EXPECT_TRUE(w.healthy());
}

// No inotify (here: no descriptor left for it): counted, and the watch says so, so the follow
// loop polls every file instead of waiting for events that will not come.
TEST_F(EventDrivenTest, WithoutInotifyTheWatchIsDegradedAndCounted) {
  auto& fallbacks = Metrics::global().counter("logship_input_watch_fallbacks_total",
                                              "input=\"nofd\"", "");
  const uint64_t before = fallbacks.load();
  struct rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  const int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  struct rlimit none = old;
  none.rlim_cur = static_cast<rlim_t>(lowest_free);   // the next descriptor is refused
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &none), 0);
  std::optional<DirWatch> w;
  w.emplace(PluginContext{PluginKind::kInput, "nofd", "file"});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_FALSE(w->healthy());
  EXPECT_EQ(fallbacks.load(), before + 1);
  w->watch(dir, DirWatch::kLeafMask);   // nothing to watch with: no error, no second count
  EXPECT_EQ(fallbacks.load(), before + 1);
  const auto t0 = SteadyClock::now();
  EXPECT_FALSE(w->wait(50, [](const std::string&) { return false; }));
  EXPECT_GE(SteadyClock::now() - t0, std::chrono::milliseconds(50));   // slept: the poll period
}

// 20 files found by one scan, max_awake 4: they are read in waves, never more than 4 awake
// (each with a decoder and stream) at once; those read to their end sleep at once instead of
// after close_idle while others wait, and every line arrives exactly once.
TEST_F(EventDrivenTest, AScanOfManyFilesIsReadInWavesOfMaxAwake) {
  TailerOptions o;
  o.max_awake = 4;
  std::vector<std::string> want;
  for (int f = 0; f < 20; ++f) {
    const std::string p = "f" + std::to_string(f) + "-";
    append(dir + "/" + p + ".log", numbered(p, 1, 3));
    want = concat(want, numbered_lines(p, 1, 3));
  }
  Harness h(dir, o);
  h.ctx.keeps_state = false;   // a pipeline without stateful processors
  h.scan();
  std::size_t most_awake = 0;
  int rounds = 0;
  for (; rounds < 100 && h.delivered().lines.size() < want.size(); ++rounds) {
    h.tailer->read_round();
    most_awake = std::max(most_awake, h.tailer->awake_files());
    h.tailer->housekeeping(SteadyClock::now());
  }
  EXPECT_TRUE(exactly_once(h.delivered(), want));
  EXPECT_EQ(most_awake, 4u);
  EXPECT_GE(rounds, 5);   // 20 files, 4 at a time
  h.tailer->housekeeping(SteadyClock::now());
  EXPECT_LE(h.tailer->awake_files(), 4u);   // the waves before the last slept at once
  EXPECT_FALSE(h.tailer->busy());
}

// Files that never reach their end (more than a round's bytes each time) cannot keep another
// file waiting past max_deferred_rounds: it is read anyway.
TEST_F(EventDrivenTest, FilesThatNeverReachTheirEndCannotStarveTheOthers) {
  TailerOptions o;
  o.max_awake = 2;
  o.max_deferred_rounds = 5;
  o.round_bytes = 40;   // one read (4 KiB) per file per round: 20 rounds to their ends
  append(dir + "/busy-a.log", numbered("a", 1, 2000));
  append(dir + "/busy-b.log", numbered("b", 1, 2000));
  Harness h(dir, o);
  h.ctx.keeps_state = false;
  h.scan();
  h.tailer->read_round();   // both awake, neither at its end
  append(dir + "/quiet.log", numbered("q", 1, 1));
  h.scan();
  int rounds = 0;
  while (h.delivered().count.count(numbered_lines("q", 1, 1)[0]) == 0 && rounds < 50) {
    h.tailer->read_round();
    h.tailer->housekeeping(SteadyClock::now());
    ++rounds;
  }
  EXPECT_LE(rounds, 7);   // waited its 5 rounds, then read
  EXPECT_GE(rounds, 5);
  EXPECT_LT(h.delivered().lines.size(), 2000u);   // the busy ones were still far from their end
}

}  // namespace
}  // namespace logship::tail::testing
