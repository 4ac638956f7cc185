// The file output against a real directory: poison paths are dead-lettered while the other
// events are written, a symlink at the output path is refused and its target left untouched,
// a failed delivery that rotated puts the archive back (no extra archive per retry), and the
// number of open files stays under max_open_files.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/registry/plugin.h"
#include "outputs/file/archiver.h"
#include "outputs/file/output_file.h"

namespace logship {
namespace {

namespace fs = std::filesystem;

class FakeContext final : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return dir_; }
  Status dead_letter(const Event& e, const SourceInfo&, PermanentError why,
                     std::string_view reason) override {
    std::lock_guard lock(mu_);
    if (fail_dead_letters) return Status::unavailable("dead-letter file not writable");
    dead.push_back({std::string(e.message), why, std::string(reason)});
    return Status::ok();
  }
  struct Dead {
    std::string message;
    PermanentError why;
    std::string reason;
  };
  std::mutex mu_;
  std::vector<Dead> dead;
  bool fail_dead_letters = false;

 private:
  std::string name_ = "f";
  std::string dir_ = "/nonexistent";
};

std::unique_ptr<Output> make_file_output(const std::string& yaml) {
  const PluginInfo* p = find_plugin(PluginKind::kOutput, "file");
  EXPECT_NE(p, nullptr);
  config::Errors errors;
  OutputMaker maker = p->bind_output(YAML::Load(yaml), errors, "outputs.f (file)");
  EXPECT_TRUE(maker) << errors.to_string();
  return maker ? maker() : nullptr;
}

std::shared_ptr<SourceInfo> container(const std::string& name, const std::string& image = "img") {
  auto s = std::make_shared<SourceInfo>();
  s->input = "docker";
  s->key = name;
  s->tags.push_back({"container_name", ValueType::kString, name});
  s->tags.push_back({"image", ValueType::kString, image});
  return s;
}

SharedBatch batch(const std::shared_ptr<SourceInfo>& src, const std::string& prefix, int n,
                  std::size_t size = 20) {
  auto b = std::make_shared<Batch>(src, n);
  for (int i = 0; i < n; ++i) {
    std::string m = prefix + "-" + std::to_string(i) + " ";
    m.resize(std::max(m.size(), size), 'x');
    Event& e = b->add_event();
    e.message = b->copy(m);
    e.time_ns = 1700000000000000000;
  }
  return b;
}

DeliveryResult deliver(Output& out, std::vector<SharedBatch> batches) {
  DeliveryResult result = DeliveryResult::retry("done not called");
  out.deliver(batches, [&](DeliveryResult r) { result = std::move(r); });
  return result;   // sync: none completes before deliver returns
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read(path));
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::size_t open_fds_under(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    fs::path target = fs::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind(dir, 0) == 0) ++n;
  }
  return n;
}

class FileOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/file_output_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string config(const std::string& path, const std::string& extra = "") {
    return "path: " + dir_ + "/" + path + "\nformat: raw\ncompress: false\n" + extra;
  }
  std::string dir_;
  FakeContext ctx_;
};

TEST_F(FileOutputTest, PoisonPathIsDeadLetteredAndTheOtherContainersAreWritten) {
  auto out = make_file_output(config("{container_name}-{image}.log"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  // Each value is capped at 200 bytes, but two of them make a 405-byte name: ENAMETOOLONG.
  auto poison = container(std::string(300, 'p'), std::string(300, 'i'));
  DeliveryResult r = deliver(*out, {batch(container("a"), "a", 3), batch(poison, "p", 4),
                                    batch(container("b"), "b", 2)});
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  EXPECT_EQ(lines(dir_ + "/a-img.log"),
            (std::vector<std::string>{"a-0 xxxxxxxxxxxxxxxx", "a-1 xxxxxxxxxxxxxxxx",
                                      "a-2 xxxxxxxxxxxxxxxx"}));
  EXPECT_EQ(lines(dir_ + "/b-img.log").size(), 2u);
  ASSERT_EQ(ctx_.dead.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(ctx_.dead[i].message.substr(0, 4), "p-" + std::to_string(i) + " ");
    EXPECT_EQ(ctx_.dead[i].why, PermanentError::kBadPath);
    EXPECT_NE(ctx_.dead[i].reason.find("File name too long"), std::string::npos)
        << ctx_.dead[i].reason;
  }
  // The next delivery is not held up either.
  ASSERT_EQ(deliver(*out, {batch(poison, "q", 1), batch(container("a"), "a2", 1)}).kind,
            DeliveryResult::Kind::kDelivered);
  EXPECT_EQ(lines(dir_ + "/a-img.log").size(), 4u);
  EXPECT_EQ(ctx_.dead.size(), 5u);
  out->stop();
}

TEST_F(FileOutputTest, SymlinkAtTheOutputPathIsRefusedAndItsTargetUntouched) {
  const std::string target = dir_ + "/precious";
  std::ofstream(target) << "keep me\nno newline at the end";   // a torn-line cut would show
  fs::create_symlink(target, dir_ + "/evil.log");
  fs::create_directory(dir_ + "/dir.log");
  auto out = make_file_output(config("{container_name}.log"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  DeliveryResult r = deliver(*out, {batch(container("evil"), "e", 2),
                                    batch(container("dir"), "d", 1),
                                    batch(container("good"), "g", 2)});
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  out->stop();
  EXPECT_EQ(read(target), "keep me\nno newline at the end");
  EXPECT_TRUE(fs::is_symlink(dir_ + "/evil.log"));
  EXPECT_EQ(lines(dir_ + "/good.log").size(), 2u);
  ASSERT_EQ(ctx_.dead.size(), 3u);
  EXPECT_EQ(ctx_.dead[0].why, PermanentError::kSymlink);
  EXPECT_EQ(ctx_.dead[1].why, PermanentError::kSymlink);
  EXPECT_EQ(ctx_.dead[2].why, PermanentError::kBadPath);   // a directory in the way
}

TEST_F(FileOutputTest, FifoAtTheOutputPathIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir_ + "/fifo.log").c_str(), 0600), 0);
  auto out = make_file_output(config("{container_name}.log"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  DeliveryResult r = deliver(*out, {batch(container("fifo"), "f", 1)});
  ASSERT_EQ(r.kind, DeliveryResult::Kind::kDelivered) << r.reason;
  ASSERT_EQ(ctx_.dead.size(), 1u);
  EXPECT_EQ(ctx_.dead[0].why, PermanentError::kBadPath);
  out->stop();
}

std::vector<std::string> archives(const std::string& dir, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (f.rfind(name + ".", 0) == 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(FileOutputTest, FailedDeliveryPutsItsRotationsBackAndTheRetryRotatesOnce) {
  auto out = make_file_output(config("{container_name}-{image}.log", "max_size: 1KiB\n"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  const std::string active = dir_ + "/a-img.log";
  ASSERT_EQ(deliver(*out, {batch(container("a"), "first", 5, 100)}).kind,
            DeliveryResult::Kind::kDelivered);
  const std::string before = read(active);
  ASSERT_EQ(before.size(), 505u);
  // 20 lines of 101 bytes rotate twice (after lines 6 and 17). The poison event's dead letter
  // then fails, so each attempt fails whole and must be undone: no archive, no extra line.
  auto attempt = [&] {
    return deliver(*out, {batch(container("a"), "second", 20, 100),
                          batch(container(std::string(300, 'p'), std::string(300, 'i')), "p", 1)});
  };
  ctx_.fail_dead_letters = true;
  for (int i = 0; i < 3; ++i) {
    DeliveryResult r = attempt();
    ASSERT_EQ(r.kind, DeliveryResult::Kind::kRetry);
    EXPECT_EQ(archives(dir_, "a-img.log"), std::vector<std::string>{}) << "attempt " << i;
    EXPECT_EQ(read(active), before) << "attempt " << i;
  }
  ctx_.fail_dead_letters = false;
  ASSERT_EQ(attempt().kind, DeliveryResult::Kind::kDelivered);
  out->stop();
  const auto rotated = archives(dir_, "a-img.log");
  ASSERT_EQ(rotated.size(), 2u);
  std::vector<std::string> all;
  for (const auto& f : rotated) {
    for (auto& l : lines(f)) all.push_back(std::move(l));
  }
  for (auto& l : lines(active)) all.push_back(std::move(l));
  ASSERT_EQ(all.size(), 25u);
  for (int i = 0; i < 25; ++i) {
    const std::string want = i < 5 ? "first-" + std::to_string(i) : "second-" + std::to_string(i - 5);
    EXPECT_EQ(all[i].substr(0, want.size() + 1), want + " ") << i;
  }
  EXPECT_EQ(lines(rotated[0]).size(), 11u);
  EXPECT_EQ(lines(rotated[1]).size(), 11u);
  EXPECT_EQ(ctx_.dead.size(), 1u);
}

TEST_F(FileOutputTest, OpenFilesStayUnderMaxOpenFiles) {
  auto out = make_file_output(config("{container_name}.log", "max_open_files: 3\n"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  std::vector<SharedBatch> all;
  for (int c = 0; c < 10; ++c) all.push_back(batch(container("c" + std::to_string(c)), "x", 1));
  // One delivery writing ten files, then ten deliveries writing one each, twice over.
  ASSERT_EQ(deliver(*out, all).kind, DeliveryResult::Kind::kDelivered);
  out->tick(SteadyClock::now());   // one delivery may go over the cap until the next tick
  EXPECT_LE(open_fds_under(dir_), 3u);
  for (int round = 0; round < 2; ++round) {
    for (const auto& b : all) {
      ASSERT_EQ(deliver(*out, {b}).kind, DeliveryResult::Kind::kDelivered);
      EXPECT_LE(open_fds_under(dir_), 3u);
    }
  }
  out->stop();
  EXPECT_EQ(open_fds_under(dir_), 0u);
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(lines(dir_ + "/c" + std::to_string(c) + ".log").size(), 3u) << c;
  }
}

TEST(ArchiverTest, SymlinksPlantedInTheArchiveDirectoryAreNeverFollowed) {
  const std::string dir = ::testing::TempDir() + "/archiver_symlinks";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string secret = dir + "/secret";
  std::ofstream(secret) << "not for the archive\n";
  // A planted segment that links elsewhere: not compressed into an archive, not removed.
  fs::create_symlink(secret, dir + "/app.log.1");
  Status s = plugins::Archiver::gzip_file(dir + "/app.log.1", dir + "/app.log.1.gz", 1);
  EXPECT_FALSE(s.is_ok());
  EXPECT_FALSE(fs::exists(dir + "/app.log.1.gz"));
  // A planted temporary file that links elsewhere: never truncated or written through.
  std::ofstream(dir + "/app.log.2") << "segment\n";
  fs::create_symlink(secret, dir + "/app.log.2.gz.tmp");
  s = plugins::Archiver::gzip_file(dir + "/app.log.2", dir + "/app.log.2.gz", 1);
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(read(secret), "not for the archive\n");
  EXPECT_TRUE(fs::is_symlink(dir + "/app.log.1"));
}

TEST(OutputFileTest, CutTornLineCutsOnlyThePartialLine) {
  const std::string path = ::testing::TempDir() + "/torn_line_cut";
  std::ofstream(path, std::ios::trunc) << "one\ntwo\nthr";
  uint64_t size = 0;
  plugins::OpenFailure why;
  int fd = plugins::open_output_file(path, &size, &why);
  ASSERT_GE(fd, 0) << why.what;
  Result<uint64_t> cut = plugins::cut_torn_line(fd, size);
  ASSERT_TRUE(cut.is_ok()) << cut.status().message();
  EXPECT_EQ(cut.value(), 3u);
  ::close(fd);
  EXPECT_EQ(read(path), "one\ntwo\n");
}

TEST(OutputFileTest, ErrorsAreClassifiedOnce) {
  EXPECT_EQ(plugins::permanent_path_error(ENAMETOOLONG), PermanentError::kBadPath);
  EXPECT_EQ(plugins::permanent_path_error(EISDIR), PermanentError::kBadPath);
  EXPECT_EQ(plugins::permanent_path_error(ENXIO), PermanentError::kBadPath);
  EXPECT_EQ(plugins::permanent_path_error(ELOOP), PermanentError::kSymlink);
  // ENOTDIR: the output directory replaced by a file is an outage, not a poison event.
  for (int retriable : {EMFILE, ENFILE, ENOSPC, EIO, EACCES, EROFS, EDQUOT, ENOTDIR, EEXIST}) {
    EXPECT_EQ(plugins::permanent_path_error(retriable), std::nullopt) << retriable;
  }
}

}  // namespace
}  // namespace logship
