#include "daemon/state/checkpoint_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"

namespace logship {
namespace {

std::string fresh_dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/ckpt_" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// Files in dir whose name starts with prefix.
std::vector<std::string> files_starting(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  return out;
}

TEST(CheckpointStoreTest, RoundTripsPositionsThroughTheFile) {
  std::string dir = fresh_dir("roundtrip");
  {
    CheckpointStore s;
    ASSERT_TRUE(s.open(dir).is_ok());
    s.commit("docker:2049:1234", Position{4096, "fp=ab\"c\\"});
    s.commit("journald:x", Position{0, "s=1;i=2\nb=3"});
    ASSERT_TRUE(s.flush().is_ok());
  }
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_FALSE(s.loaded_corrupt());
  ASSERT_TRUE(s.get("docker:2049:1234"));
  EXPECT_EQ(s.get("docker:2049:1234")->offset, 4096u);
  EXPECT_EQ(s.get("docker:2049:1234")->text, "fp=ab\"c\\");
  EXPECT_EQ(s.get("journald:x")->text, "s=1;i=2\nb=3");
  EXPECT_FALSE(s.get("missing"));
}

TEST(CheckpointStoreTest, TornTempFileIsIgnored) {
  std::string dir = fresh_dir("torn");
  {
    CheckpointStore s;
    ASSERT_TRUE(s.open(dir).is_ok());
    s.commit("a", Position{10, ""});
    ASSERT_TRUE(s.flush().is_ok());
  }
  // A crash in the middle of the next write leaves a torn temp file beside the good one.
  {
    std::ofstream tmp(dir + "/checkpoints.json.tmp");
    tmp << "{\"version\":1,\"streams\":{\"a\":{\"offset\":99";
  }
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_FALSE(s.loaded_corrupt());
  EXPECT_EQ(s.get("a")->offset, 10u);
}

TEST(CheckpointStoreTest, CorruptFileIsReportedAndTreatedAsEmpty) {
  std::string dir = fresh_dir("corrupt");
  {
    std::ofstream f(dir + "/checkpoints.json");
    f << "{\"version\":1,\"streams\":{\"a\":{\"offs";
  }
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_TRUE(s.loaded_corrupt());
  EXPECT_FALSE(s.get("a"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoints.json"));
  EXPECT_EQ(files_starting(dir, "checkpoints.json.corrupt-").size(), 1u);
}

TEST(CheckpointStoreTest, EachWriteKeepsThePreviousFileAsPrev) {
  std::string dir = fresh_dir("prev");
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  s.commit("a", Position{10, "x"});
  ASSERT_TRUE(s.flush().is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoints.json.prev"));   // nothing before
  std::string first;
  ASSERT_TRUE(read_whole_file(dir + "/checkpoints.json", &first));
  s.commit("a", Position{20, "x"});
  ASSERT_TRUE(s.flush().is_ok());
  std::string prev;
  ASSERT_TRUE(read_whole_file(dir + "/checkpoints.json.prev", &prev));
  EXPECT_EQ(prev, first);
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoints.json.prev.tmp"));
}

TEST(CheckpointStoreTest, CorruptFileIsSetAsideAndThePreviousCopyLoaded) {
  std::string dir = fresh_dir("fallback");
  {
    CheckpointStore s;
    ASSERT_TRUE(s.open(dir).is_ok());
    s.commit("a", Position{10, "x"});
    s.commit("b", Position{5, "y"});
    ASSERT_TRUE(s.flush().is_ok());
    s.commit("a", Position{30, "x"});
    ASSERT_TRUE(s.flush().is_ok());
  }
  const std::string garbage = "{\"version\":1,\"streams\":{\"a\":{\"offs\0\0\0";
  {
    std::ofstream f(dir + "/checkpoints.json", std::ios::binary | std::ios::trunc);
    f << garbage;
  }
  const int64_t corrupt_before = Metrics::global().value("logship_checkpoint_corrupt_total", "");
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_TRUE(s.loaded_corrupt());
  EXPECT_TRUE(s.loaded_previous());
  EXPECT_EQ(Metrics::global().value("logship_checkpoint_corrupt_total", ""), corrupt_before + 1);
  // Older, never newer: lines are read again, none skipped.
  ASSERT_TRUE(s.get("a"));
  EXPECT_EQ(s.get("a")->offset, 10u);
  EXPECT_EQ(s.get("b")->offset, 5u);
  auto aside = files_starting(dir, "checkpoints.json.corrupt-");
  ASSERT_EQ(aside.size(), 1u);
  std::string kept;
  ASSERT_TRUE(read_whole_file(dir + "/" + aside[0], &kept));
  EXPECT_EQ(kept, garbage);
  // The next write does not replace the good previous copy with nothing.
  s.commit("a", Position{11, "x"});
  ASSERT_TRUE(s.flush().is_ok());
  CheckpointStore again;
  ASSERT_TRUE(again.open(dir).is_ok());
  EXPECT_FALSE(again.loaded_corrupt());
  EXPECT_EQ(again.get("a")->offset, 11u);
}

TEST(CheckpointStoreTest, ASymlinkAsTheCheckpointFileIsNotFollowed) {
  std::string dir = fresh_dir("symlink");
  {
    CheckpointStore s;
    ASSERT_TRUE(s.open(dir).is_ok());
    s.commit("a", Position{7, ""});
    ASSERT_TRUE(s.flush().is_ok());
    s.commit("a", Position{8, ""});
    ASSERT_TRUE(s.flush().is_ok());
  }
  std::filesystem::remove(dir + "/checkpoints.json");
  std::filesystem::create_symlink("/dev/zero", dir + "/checkpoints.json");
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_TRUE(s.loaded_previous());
  EXPECT_EQ(s.get("a")->offset, 7u);
}

TEST(CheckpointStoreTest, CorruptFileAndCorruptPreviousCopyStartEmpty) {
  std::string dir = fresh_dir("both_corrupt");
  std::ofstream(dir + "/checkpoints.json") << "not json";
  std::ofstream(dir + "/checkpoints.json.prev") << "{\"version\":2}";
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  EXPECT_TRUE(s.loaded_corrupt());
  EXPECT_FALSE(s.loaded_previous());
  EXPECT_FALSE(s.get("a"));
  EXPECT_EQ(files_starting(dir, "checkpoints.json.corrupt-").size(), 1u);
}

TEST(CheckpointStoreTest, DirectoryAtThePathIsSetAside) {
  std::string dir = fresh_dir("directory");
  std::filesystem::create_directories(dir + "/checkpoints.json/inner");
  CheckpointStore s;
  EXPECT_TRUE(s.open(dir).is_ok());
  EXPECT_TRUE(s.loaded_corrupt());
}

TEST(CheckpointStoreTest, WritesOnlyWhenChangedAndForgets) {
  std::string dir = fresh_dir("dirty");
  CheckpointStore s;
  ASSERT_TRUE(s.open(dir).is_ok());
  ASSERT_TRUE(s.flush().is_ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoints.json"));  // nothing to write yet
  s.commit("a", Position{1, ""});
  ASSERT_TRUE(s.flush().is_ok());
  auto t1 = std::filesystem::last_write_time(dir + "/checkpoints.json");
  std::filesystem::last_write_time(dir + "/checkpoints.json", t1 - std::chrono::hours(1));
  s.commit("a", Position{1, ""});   // unchanged
  ASSERT_TRUE(s.flush().is_ok());
  EXPECT_EQ(std::filesystem::last_write_time(dir + "/checkpoints.json"), t1 - std::chrono::hours(1));
  s.forget("a");
  ASSERT_TRUE(s.flush().is_ok());
  CheckpointStore again;
  ASSERT_TRUE(again.open(dir).is_ok());
  EXPECT_FALSE(again.get("a"));
}

TEST(AtomicFileTest, ReplacesContentAndLeavesNoTemp) {
  std::string dir = fresh_dir("atomic");
  ASSERT_TRUE(write_file_atomically(dir + "/f", "one").is_ok());
  ASSERT_TRUE(write_file_atomically(dir + "/f", "two").is_ok());
  std::string content;
  ASSERT_TRUE(read_whole_file(dir + "/f", &content));
  EXPECT_EQ(content, "two");
  EXPECT_FALSE(std::filesystem::exists(dir + "/f.tmp"));
}

}  // namespace
TEST(AtomicFileTest, BeforeReplaceRunsOnceTheNewContentIsDurableAndCanStopIt) {
  std::string dir = fresh_dir("atomic_hook");
  ASSERT_TRUE(write_file_atomically(dir + "/f", "old").is_ok());
  bool ran = false;
  ASSERT_TRUE(write_file_atomically(dir + "/f", "new", [&] {
                ran = true;
                std::string tmp, cur;
                EXPECT_TRUE(read_whole_file(dir + "/f.tmp", &tmp));
                EXPECT_TRUE(read_whole_file(dir + "/f", &cur));
                EXPECT_EQ(tmp, "new");
                EXPECT_EQ(cur, "old");
                return Status::ok();
              }).is_ok());
  EXPECT_TRUE(ran);
  Status s = write_file_atomically(dir + "/f", "newer", [] { return Status::io("link", EIO); });
  EXPECT_FALSE(s.is_ok());
  std::string content;
  ASSERT_TRUE(read_whole_file(dir + "/f", &content));
  EXPECT_EQ(content, "new");
}

}  // namespace logship
