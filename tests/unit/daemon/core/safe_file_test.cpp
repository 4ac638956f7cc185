#include "daemon/core/safe_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace logship {
namespace {

using Outcome = SafeRead::Outcome;

class SafeFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/safe_file_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string write(const std::string& name, const std::string& content) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  std::string dir_;
};

TEST_F(SafeFileTest, ReadsARegularFileWhole) {
  std::string text(300000, 'x');
  text += "end";
  std::string out;
  SafeRead r = read_file_safely(write("f", text), SafeReadLimits{1 << 20, false}, &out);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(out, text);
}

TEST_F(SafeFileTest, EmptyFileIsOk) {
  std::string out = "stale";
  EXPECT_TRUE(read_file_safely(write("f", ""), {}, &out).ok());
  EXPECT_EQ(out, "");
}

TEST_F(SafeFileTest, MissingFileIsMissing) {
  std::string out;
  SafeRead r = read_file_safely(dir_ + "/nope", {}, &out);
  EXPECT_EQ(r.outcome, Outcome::kMissing);
  EXPECT_EQ(r.err, ENOENT);
}

TEST_F(SafeFileTest, ExactlyAtTheCapIsReadOneByteOverIsRejected) {
  std::string out;
  EXPECT_TRUE(read_file_safely(write("at", std::string(1000, 'a')), {1000, false}, &out).ok());
  EXPECT_EQ(out.size(), 1000u);
  SafeRead r = read_file_safely(write("over", std::string(1001, 'a')), {1000, false}, &out);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("larger than 1000 bytes"), std::string::npos) << r.error;
  EXPECT_TRUE(out.empty());
}

TEST_F(SafeFileTest, SymlinkToDevZeroIsRejectedUnlessFollowed) {
  std::string link = dir_ + "/zero";
  ASSERT_EQ(::symlink("/dev/zero", link.c_str()), 0);
  std::string out;
  SafeRead r = read_file_safely(link, {}, &out);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("symbolic link"), std::string::npos) << r.error;
  // Followed, the target is still a device: rejected by type, never read.
  r = read_file_safely(link, SafeReadLimits{1 << 20, true}, &out);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("character device"), std::string::npos) << r.error;
}

TEST_F(SafeFileTest, SymlinkToARegularFileIsReadOnlyWhenAllowed) {
  std::string target = write("target", "secret");
  std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::string out;
  EXPECT_EQ(read_file_safely(link, {}, &out).outcome, Outcome::kRejected);
  ASSERT_TRUE(read_file_safely(link, SafeReadLimits{64, true}, &out).ok());
  EXPECT_EQ(out, "secret");
}

TEST_F(SafeFileTest, FifoWithoutWriterIsRejectedAtOnce) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string out;
  auto start = std::chrono::steady_clock::now();
  SafeRead r = read_file_safely(fifo, {}, &out);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("FIFO"), std::string::npos) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(SafeFileTest, DirectoryIsRejected) {
  std::string out;
  SafeRead r = read_file_safely(dir_, {}, &out);
  EXPECT_EQ(r.outcome, Outcome::kRejected);
  EXPECT_NE(r.error.find("directory"), std::string::npos) << r.error;
}

TEST_F(SafeFileTest, UnreadableFileIsAFailureToRetry) {
  std::string p = write("locked", "x");
  ASSERT_EQ(::chmod(p.c_str(), 0), 0);
  auto unreadable_is_eacces = [&] {
    std::string out;
    SafeRead r = read_file_safely(p, {}, &out);
    return r.outcome == Outcome::kFailed && r.err == EACCES;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(unreadable_is_eacces());
    return;
  }
  // Root reads any file: the read is made by a child that has become nobody.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(unreadable_is_eacces() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: not EACCES/kFailed, 2: could not become nobody";
}

}  // namespace
}  // namespace logship
