// GzReader over real gzip files: resuming at an uncompressed offset, files cut short or still
// being written, garbage, a gzip bomb stopped at the bound, concatenated members.
#include "inputs/tail/gz_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "tests/unit/inputs/tail/gz_test_util.h"

namespace logship::tail::testing {
namespace {

namespace fs = std::filesystem;

class GzReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/logship-gz-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    path = dir + "/app.log.1.gz";
  }
  void TearDown() override {
    if (fd >= 0) ::close(fd);
    fs::remove_all(dir);
  }
  int open_gz() {
    if (fd >= 0) ::close(fd);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    return fd;
  }
  // Everything the reader returns, in small reads (so reads cross deflate blocks).
  std::string drain(GzReader& r, std::size_t chunk = 777) {
    std::string out, buf(chunk, '\0');
    for (int guard = 0; guard < 1000000; ++guard) {
      ssize_t n = r.read(buf.data(), buf.size());
      if (n <= 0) break;
      out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
  }
  // Lines that do not compress to nothing.
  static std::string lines(int n) {
    std::mt19937 rng(7);
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += "line " + std::to_string(i) + " " + std::to_string(rng()) + " " +
             std::to_string(rng()) + "\n";
    }
    return out;
  }

  std::string dir, path;
  int fd = -1;
};

TEST_F(GzReaderTest, ReadsFromTheStartAndFromAnUncompressedOffset) {
  const std::string text = lines(20000);
  write_gz(path, text);
  GzReader all(open_gz(), 0, 1ull << 30);
  EXPECT_EQ(drain(all), text);
  EXPECT_TRUE(all.finished());
  EXPECT_EQ(all.position(), text.size());
  for (uint64_t start : {uint64_t{1}, uint64_t{100000}, uint64_t{text.size() - 5}}) {
    GzReader r(open_gz(), start, 1ull << 30);
    EXPECT_EQ(r.position(), start);
    EXPECT_EQ(drain(r), text.substr(start)) << start;
    EXPECT_TRUE(r.finished());
    EXPECT_FALSE(r.ended_before_start());
  }
}

TEST_F(GzReaderTest, TheTrailerAndThePrefixNameTheContent) {
  const std::string text = lines(500);
  write_gz(path, text);
  open_gz();
  EXPECT_EQ(gz_trailer_size(fd), static_cast<uint32_t>(text.size()));
  std::string head;
  bool complete = true;
  ASSERT_TRUE(gz_prefix(fd, 256, &head, &complete));
  EXPECT_EQ(head, text.substr(0, 256));
  EXPECT_FALSE(complete);   // there is more than 256 bytes
  write_gz(path, "short\n");
  open_gz();
  ASSERT_TRUE(gz_prefix(fd, 256, &head, &complete));
  EXPECT_EQ(head, "short\n");
  EXPECT_TRUE(complete);
}

// An offset past the end: the file is not the one the checkpoint was taken on.
TEST_F(GzReaderTest, AnOffsetPastTheEndIsAnIdentityMismatch) {
  write_gz(path, lines(100));
  GzReader r(open_gz(), 1 << 20, 1ull << 30);
  EXPECT_EQ(drain(r), "");
  EXPECT_TRUE(r.ended_before_start());
}

// Cut short (a disk that filled, a copy interrupted): what is there is read, then it waits;
// the bytes gzip adds later are read from where it stopped.
TEST_F(GzReaderTest, ACutShortFileIsReadAsFarAsItGoesThenResumesWhenItGrows) {
  const std::string text = lines(30000);
  write_gz(path, text, 1);
  const std::string whole = read_all(path);
  write_all(path, whole.substr(0, whole.size() / 2));
  GzReader r(open_gz(), 10, 1ull << 30);
  const std::string first = drain(r);
  EXPECT_TRUE(r.waiting());
  EXPECT_FALSE(r.finished());
  EXPECT_GT(first.size(), 1000u);
  EXPECT_EQ(first, text.substr(10, first.size()));
  std::ofstream(path, std::ios::binary | std::ios::app) << whole.substr(whole.size() / 2);
  EXPECT_EQ(first + drain(r), text.substr(10));
  EXPECT_TRUE(r.finished());
}

TEST_F(GzReaderTest, GarbageIsAnErrorNotACrash) {
  std::mt19937 rng(1);
  std::string junk(100000, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  write_all(path, junk);
  GzReader r(open_gz(), 0, 1ull << 30);
  drain(r);
  EXPECT_TRUE(r.failed());
  EXPECT_FALSE(r.error().empty());
  std::string head;
  bool complete = false;
  EXPECT_FALSE(gz_prefix(fd, 256, &head, &complete));
  // A valid header, then corrupt deflate data.
  write_gz(path, lines(5000));
  std::string bytes = read_all(path);
  for (std::size_t i = 200; i < bytes.size() - 8; i += 97) bytes[i] = static_cast<char>(~bytes[i]);
  write_all(path, bytes);
  GzReader c(open_gz(), 0, 1ull << 30);
  drain(c);
  EXPECT_TRUE(c.failed()) << "read corrupt data to its end";
  EXPECT_NE(c.error().find("corrupt"), std::string::npos) << c.error();
}

// 64 MiB of zeros compress to about 64 KiB: the bound stops the reader, whatever the ratio.
TEST_F(GzReaderTest, AGzipBombStopsAtTheBound) {
  gzFile f = gzopen(path.c_str(), "wb9");
  std::string zeros(1 << 20, '\0');
  for (int i = 0; i < 64; ++i) gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(f);
  EXPECT_LT(fs::file_size(path), 200u << 10);
  const uint64_t bound = 4 << 20;
  GzReader r(open_gz(), 0, bound);
  const std::string got = drain(r, 1 << 16);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(got.size(), bound);
  EXPECT_NE(r.error().find("max_decompressed_size"), std::string::npos);
  // Skipping counts too: a start beyond the bound is not decompressed to.
  GzReader s(open_gz(), 32 << 20, bound);
  EXPECT_EQ(drain(s, 1 << 16), "");
  EXPECT_TRUE(s.failed());
}

// gzip reads concatenated members as one file; zero padding after the last one is ignored.
TEST_F(GzReaderTest, ConcatenatedMembersAndTrailingPadding) {
  const std::string a = lines(300), b = "second member\n";
  write_gz(path, a);
  std::string bytes = read_all(path);
  write_gz(path, b);
  bytes += read_all(path) + std::string(512, '\0');
  write_all(path, bytes);
  GzReader r(open_gz(), 5, 1ull << 30);
  EXPECT_EQ(drain(r), (a + b).substr(5));
  EXPECT_TRUE(r.finished());
}

TEST_F(GzReaderTest, AnEmptyFileWaitsForItsHeader) {
  write_all(path, "");
  GzReader r(open_gz(), 0, 1ull << 30);
  EXPECT_EQ(drain(r), "");
  EXPECT_TRUE(r.waiting());
  std::string head;
  bool complete = false;
  EXPECT_FALSE(gz_prefix(fd, 256, &head, &complete));
}

}  // namespace
}  // namespace logship::tail::testing
