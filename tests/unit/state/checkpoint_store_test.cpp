#include "daemon/state/checkpoint_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "daemon/state/atomic_file.h"

namespace logship {
namespace {

std::string fresh_dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/ckpt_" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
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
}  // namespace logship
