// Compressed generations through the tailer, over real gzip files: a generation compressed
// while the tailer was stopped (logrotate `compress`, Docker `compress=true`) or right after a
// copytruncate copy is read from the checkpointed offset, each line once; a .gz no checkpoint
// names is left alone; a corrupt one is counted.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "daemon/runtime/metrics.h"
#include "inputs/tail/fingerprint.h"
#include "tests/unit/inputs/tail/gz_test_util.h"
#include "tests/unit/inputs/tail/tail_test_util.h"

namespace logship::tail::testing {
namespace {

namespace fs = std::filesystem;

class CompressedGenerationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/logship-gzgen-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    log = dir + "/app.log";
  }
  void TearDown() override { fs::remove_all(dir); }

  static std::atomic<uint64_t>& metric(const char* name) {
    return Metrics::global().counter(name, "input=\"t\"", "");
  }

  std::string dir, log;
};

// Stopped in the middle of app.log; logrotate `create` + `compress` (no delaycompress) turned it
// into app.log.1.gz: read from the checkpoint, then left alone across further restarts and
// renames (app.log.2.gz).
TEST_F(CompressedGenerationTest, CompressedWhileStoppedIsReadFromTheCheckpoint) {
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  const uint64_t read_before = metric("logship_input_compressed_generations_total").load();
  h.tailer.reset();
  append(log, numbered("a", 11, 20));
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 3));
  h.restart();
  h.pump();
  const auto want = concat(numbered_lines("a", 1, 20), numbered_lines("b", 1, 3));
  EXPECT_TRUE(exactly_once(h.delivered(), want));
  EXPECT_EQ(metric("logship_input_compressed_generations_total").load(), read_before + 1);
  // The plain file's checkpoint is gone; the .gz keeps one of its own, at its end.
  h.tailer.reset();
  fs::rename(log + ".1.gz", log + ".2.gz");
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(), want));
  EXPECT_EQ(metric("logship_input_compressed_generations_total").load(), read_before + 1);
}

// Docker's compress=true while stopped across two rotations: the generation logship was reading
// resumes from its .gz; the one created, filled and compressed while it was down has no
// checkpoint and cannot be told from an old archive: not read (the limit of the design).
TEST_F(CompressedGenerationTest, SeveralGenerationsCompressedWhileStopped) {
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  h.tailer.reset();
  append(log, numbered("a", 11, 12));
  fs::rename(log, log + ".1");
  append(log, numbered("b", 1, 10));
  gzip_file(log + ".1");
  fs::rename(log + ".1.gz", log + ".2.gz");
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  append(log, numbered("c", 1, 2));
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(numbered_lines("a", 1, 12), numbered_lines("c", 1, 2))));
}

// copytruncate + compress while stopped: app.log holds new lines at the same inode, the copy of
// the old content is app.log.1.gz. The old content resumes from the gz, the new from 0.
TEST_F(CompressedGenerationTest, CopytruncateAndCompressWhileStopped) {
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  h.tailer.reset();
  append(log, numbered("a", 11, 15));
  fs::copy_file(log, log + ".1");
  ::truncate(log.c_str(), 0);
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 30));
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(numbered_lines("a", 1, 15), numbered_lines("b", 1, 30))));
}

// Running, copytruncate without delaycompress: the copy is compressed before the tailer saw the
// truncation; the lines between the last read and the copy come from app.log.1.gz.
TEST_F(CompressedGenerationTest, CopytruncateWithoutDelaycompressLosesNothing) {
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  append(log, numbered("a", 11, 15));
  fs::copy_file(log, log + ".1");
  ::truncate(log.c_str(), 0);
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 3));
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(numbered_lines("a", 1, 15), numbered_lines("b", 1, 3))));
}

// A .gz that no checkpoint names (last month's archives) is never read, nor one whose plain
// file was read to its end.
TEST_F(CompressedGenerationTest, GenerationsNoCheckpointNamesAreLeftAlone) {
  write_gz(log + ".3.gz", numbered("old", 1, 50));
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  fs::rename(log, log + ".1");
  append(log, numbered("b", 1, 3));
  h.pump();
  gzip_file(log + ".1");   // read to its end through its descriptor already
  h.pump();
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(numbered_lines("a", 1, 10), numbered_lines("b", 1, 3))));
}

TEST_F(CompressedGenerationTest, OptedOutTheCompressedRestIsSkipped) {
  TailerOptions o;
  o.read_compressed = false;
  append(log, numbered("a", 1, 10));
  Harness h(dir, o);
  h.pump();
  h.tailer.reset();
  append(log, numbered("a", 11, 20));
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 3));
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(),
                           concat(numbered_lines("a", 1, 10), numbered_lines("b", 1, 3))));
}

// A corrupt .gz: what decompresses before the damage is delivered, the failure counted and
// logged, and the other files go on.
TEST_F(CompressedGenerationTest, ACorruptGenerationIsCountedNotACrash) {
  append(log, numbered("a", 1, 10));
  Harness h(dir);
  h.pump();
  const uint64_t failed = metric("logship_input_compressed_failed_total").load();
  h.tailer.reset();
  append(log, numbered("a", 11, 3000));
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  std::string bytes = read_all(log + ".1.gz");
  for (std::size_t i = bytes.size() / 2; i < bytes.size() - 8; i += 50) bytes[i] ^= 0x5a;
  write_all(log + ".1.gz", bytes);
  append(log, numbered("b", 1, 3));
  h.restart();
  h.pump();
  EXPECT_EQ(metric("logship_input_compressed_failed_total").load(), failed + 1);
  EXPECT_EQ(h.delivered().count.count(numbered_lines("a", 3000, 3000)[0]), 0u);
  // Before the damage: each line once. After it, deflate's back-references into damaged data
  // can copy earlier text before zlib notices (at the latest by the CRC): not asserted.
  for (const auto& l : concat(numbered_lines("a", 1, 20), numbered_lines("b", 1, 3))) {
    EXPECT_EQ(h.delivered().count.count(l), 1u) << l;
  }
}

// The checkpoint's fingerprint matches but its offset is past the .gz's end: not the file it
// was taken on (two files with the same first bytes); nothing is read from it.
TEST_F(CompressedGenerationTest, IdentityMismatchByLengthReadsNothing) {
  const std::string header(300, 'H');
  append(log, header + "\n" + numbered("a", 1, 100));
  Harness h(dir);
  h.pump();
  h.tailer.reset();
  fs::remove(log);
  write_gz(log + ".1.gz", header + "\n" + numbered("z", 1, 3));   // same head, shorter
  append(log, numbered("b", 1, 3));
  h.restart();
  h.pump();
  auto want = concat(numbered_lines("a", 1, 100), numbered_lines("b", 1, 3));
  want.push_back(header);
  EXPECT_TRUE(exactly_once(h.delivered(), want));
}

// Lagging: app.log was parked for max_open_files, rotated and compressed (Docker's
// compress=true) before its turn came. The .gz takes over from the offset reached: nothing
// lost, nothing counted lost, nothing twice.
TEST_F(CompressedGenerationTest, AParkedGenerationCompressedBeforeItsTurnIsReadFromTheGz) {
  auto& lost = metric("logship_input_lost_bytes_total");
  const uint64_t lost_before = lost.load();
  TailerOptions o;
  o.max_open_files = 1;
  const std::string other = dir + "/other.log";
  append(log, numbered("a", 1, 5));
  append(other, numbered("o", 1, 5));
  Harness h(dir, o);
  h.pump();   // app.log, first in order, is parked for other.log
  append(log, numbered("a", 6, 10));   // never read from the plain file
  fs::rename(log, log + ".1");
  h.scan();   // app.log gone; found as app.log.1
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 3));
  append(other, numbered("o", 6, 7));
  h.pump(10);
  EXPECT_EQ(lost.load(), lost_before);
  EXPECT_TRUE(exactly_once(h.delivered(), concat(concat(numbered_lines("a", 1, 10),
                                                        numbered_lines("b", 1, 3)),
                                                 numbered_lines("o", 1, 7))));
}

// A container started while logship runs, first seen after Docker had already rotated and
// compressed its first generation (a slow scan, a busy host), then one more generation created,
// filled, rotated and compressed between two scans: nothing of either can have been read, so
// each .gz is read from its start; each line once, and not again after a restart.
TEST_F(CompressedGenerationTest, GenerationsCompressedBeforeLogshipSawThemAreReadForAnOwnerSinceStart) {
  Harness h(dir);
  h.pump();   // the first scan: an empty directory
  h.owners_since_start = {"app"};
  append(log + ".1", numbered("a", 1, 20));
  gzip_file(log + ".1");
  append(log, numbered("b", 1, 3));
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 20), numbered_lines("b", 1, 3))));
  // Docker rotates twice between two scans: app.log -> .1 -> .1.gz, then the new app.log
  // (never seen) -> .1 -> .1.gz, the older one shifted to .2.gz.
  append(log, numbered("b", 4, 6));
  h.tailer->housekeeping(SteadyClock::now());
  fs::rename(log + ".1.gz", log + ".2.gz");
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  fs::rename(log + ".1.gz", log + ".3.gz");
  append(log, numbered("c", 1, 20));
  fs::rename(log, log + ".1");
  gzip_file(log + ".1");
  append(log, numbered("d", 1, 2));
  h.pump();
  const auto want = concat(concat(numbered_lines("a", 1, 20), numbered_lines("b", 1, 6)),
                           concat(numbered_lines("c", 1, 20), numbered_lines("d", 1, 2)));
  EXPECT_TRUE(exactly_once(h.delivered(), want));
  // After a restart the container is found by the first scan: not one since the start.
  h.owners_since_start.clear();
  h.restart();
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(), want));
}

// Caught while Docker compresses: the plain generation and its .gz are both there. The plain
// one is read; the .gz holds the same lines and is left alone.
TEST_F(CompressedGenerationTest, AnOwnerSinceStartsPlainGenerationBesideItsGzIsReadOnce) {
  Harness h(dir);
  h.pump();
  h.owners_since_start = {"app"};
  append(log + ".1", numbered("a", 1, 20));
  write_gz(log + ".1.gz", read_all(log + ".1"));
  append(log, numbered("b", 1, 3));
  h.pump(1);
  fs::remove(log + ".1");   // Docker finishes
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(), concat(numbered_lines("a", 1, 20), numbered_lines("b", 1, 3))));
}

// The same .gz found in a later scan of an owner seen before is left alone, as before: its
// lines may have been read under the plain file's name.
TEST_F(CompressedGenerationTest, GenerationOfAnOwnerSeenBeforeWithoutACheckpointIsLeftAlone) {
  append(log, numbered("b", 1, 3));
  Harness h(dir);
  h.pump();
  append(dir + "/app.log.5", numbered("z", 1, 20));
  gzip_file(dir + "/app.log.5");
  h.pump();
  EXPECT_TRUE(exactly_once(h.delivered(), numbered_lines("b", 1, 3)));
}

}  // namespace
}  // namespace logship::tail::testing
