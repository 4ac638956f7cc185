// Rotation and limits of the dead-letter files: the series never holds more than max_files
// files of about max_file_bytes; a full series drops the newest or the oldest as configured and
// says how many lines that cost.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/pipeline/dead_letter_file.h"

namespace logship {
namespace {

std::string dir_for(const std::string& name) {
  std::string d = ::testing::TempDir() + "/dlf_" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string line(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "line-%05d-xxxxxxxxxx\n", i);   // 21 bytes
  return buf;
}

TEST(DeadLetterFileTest, RotatesAtTheSizeLimitNewestFirst) {
  const std::string d = dir_for("rotate");
  DeadLetterFile f(d + "/es.ndjson", {.max_file_bytes = 100, .max_files = 3, .drop_oldest = false});
  DeadLetterFile::Written w;
  for (int i = 0; i < 12; ++i) {   // 4 lines (84 bytes) per file
    ASSERT_TRUE(f.write(line(i), &w).is_ok());
    EXPECT_FALSE(w.dropped_new);
    EXPECT_EQ(w.dropped_old, 0u);
  }
  EXPECT_EQ(lines_of(d + "/es.ndjson.2"), (std::vector<std::string>{
      "line-00000-xxxxxxxxxx", "line-00001-xxxxxxxxxx", "line-00002-xxxxxxxxxx",
      "line-00003-xxxxxxxxxx"}));
  EXPECT_EQ(lines_of(d + "/es.ndjson.1").front(), "line-00004-xxxxxxxxxx");
  EXPECT_EQ(lines_of(d + "/es.ndjson").back(), "line-00011-xxxxxxxxxx");
  EXPECT_FALSE(std::filesystem::exists(d + "/es.ndjson.3"));
}

TEST(DeadLetterFileTest, DropNewestKeepsTheFirstFailuresAndReportsEachRefusedLine) {
  const std::string d = dir_for("newest");
  DeadLetterFile f(d + "/es.ndjson", {.max_file_bytes = 100, .max_files = 2, .drop_oldest = false});
  DeadLetterFile::Written w;
  int dropped = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(f.write(line(i), &w).is_ok());
    dropped += w.dropped_new;
    EXPECT_EQ(w.dropped_old, 0u);
  }
  EXPECT_EQ(dropped, 12);
  EXPECT_EQ(lines_of(d + "/es.ndjson.1").front(), "line-00000-xxxxxxxxxx");
  EXPECT_EQ(lines_of(d + "/es.ndjson").back(), "line-00007-xxxxxxxxxx");
  EXPECT_LE(std::filesystem::file_size(d + "/es.ndjson"), 100u);
}

TEST(DeadLetterFileTest, DropOldestDeletesTheOldestFileAndCountsItsLines) {
  const std::string d = dir_for("oldest");
  DeadLetterFile f(d + "/es.ndjson", {.max_file_bytes = 100, .max_files = 3, .drop_oldest = true});
  DeadLetterFile::Written w;
  uint64_t dropped = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(f.write(line(i), &w).is_ok());
    EXPECT_FALSE(w.dropped_new);
    dropped += w.dropped_old;
  }
  // 20 lines, 12 kept in three files: the 8 oldest were deleted, two files of 4.
  EXPECT_EQ(dropped, 8u);
  EXPECT_EQ(lines_of(d + "/es.ndjson.2").front(), "line-00008-xxxxxxxxxx");
  EXPECT_EQ(lines_of(d + "/es.ndjson").back(), "line-00019-xxxxxxxxxx");
  EXPECT_FALSE(std::filesystem::exists(d + "/es.ndjson.3"));
}

TEST(DeadLetterFileTest, OneFileWithDropOldestStartsOver) {
  const std::string d = dir_for("single");
  DeadLetterFile f(d + "/es.ndjson", {.max_file_bytes = 100, .max_files = 1, .drop_oldest = true});
  DeadLetterFile::Written w;
  uint64_t dropped = 0;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(f.write(line(i), &w).is_ok());
    dropped += w.dropped_old;
  }
  EXPECT_EQ(dropped, 4u);
  EXPECT_EQ(lines_of(d + "/es.ndjson"),
            (std::vector<std::string>{"line-00004-xxxxxxxxxx", "line-00005-xxxxxxxxxx"}));
}

TEST(DeadLetterFileTest, AFileTakenAwayOrReplacedIsReopenedAtItsPath) {
  const std::string d = dir_for("taken");
  const std::string p = d + "/es.ndjson";
  DeadLetterFile f(p, {});
  DeadLetterFile::Written w;
  ASSERT_TRUE(f.write(line(0), &w).is_ok());
  {
    DeadLetterLock lock;
    ASSERT_TRUE(DeadLetterLock::acquire(p, &lock).is_ok());
    std::filesystem::rename(p, p + ".replaying");   // what replay does
  }
  ASSERT_TRUE(f.write(line(1), &w).is_ok());
  EXPECT_EQ(lines_of(p + ".replaying"), (std::vector<std::string>{"line-00000-xxxxxxxxxx"}));
  EXPECT_EQ(lines_of(p), (std::vector<std::string>{"line-00001-xxxxxxxxxx"}));
  // Replaced by a new file (replay writing back what was rejected again).
  std::ofstream(p + ".new") << "kept\n";
  std::filesystem::rename(p + ".new", p);
  ASSERT_TRUE(f.write(line(2), &w).is_ok());
  EXPECT_EQ(lines_of(p), (std::vector<std::string>{"kept", "line-00002-xxxxxxxxxx"}));
}

TEST(DeadLetterFileTest, RotatedAndClaimedFilesShareTheSeriesLock) {
  EXPECT_EQ(DeadLetterFile::lock_path("/s/dlq/es.ndjson"), "/s/dlq/es.ndjson.lock");
  EXPECT_EQ(DeadLetterFile::lock_path("/s/dlq/es.ndjson.3"), "/s/dlq/es.ndjson.lock");
  EXPECT_EQ(DeadLetterFile::lock_path("/s/dlq/es.ndjson.3.replaying"), "/s/dlq/es.ndjson.lock");
  EXPECT_EQ(DeadLetterFile::lock_path("/s/dlq/es.ndjson.replaying"), "/s/dlq/es.ndjson.lock");
}

TEST(DeadLetterFileTest, FilesARootReplayCreatesBelongToTheDirectorysOwner) {
  const std::string d = dir_for("owner");
  // As root: the directory belongs to the daemon's user (65534 here). Otherwise the directory is
  // ours and nothing may change hands.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(d.c_str(), 65534, 65534), 0);
  }
  {
    DeadLetterLock lock;
    ASSERT_TRUE(DeadLetterLock::acquire(d + "/es.ndjson", &lock).is_ok());
  }
  std::ofstream(d + "/es.ndjson.tmp") << "x\n";
  give_to_directory_owner(d + "/es.ndjson.tmp");
  for (const char* f : {"/es.ndjson.lock", "/es.ndjson.tmp"}) {
    struct stat st{};
    ASSERT_EQ(::stat((d + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, root ? 65534u : ::geteuid()) << f;
  }
}

}  // namespace
}  // namespace logship
