// The file output against a real directory: poison paths are dead-lettered while the other
// events are written, a symlink at the output path is refused and its target left untouched,
// a failed delivery that rotated puts the archive back (no extra archive per retry), and the
// number of open files stays under max_open_files; the rotation, retention, crash recovery,
// sync and format policies write exactly what they promise.
#include <dirent.h>
#include <zlib.h>
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
#include "daemon/runtime/metrics.h"
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
  OutputMaker maker = p->bind_output(YAML::Load(yaml), errors, {PluginKind::kOutput, "f", "file"});
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

// Every line of the archives (oldest first) and then of the active file.
std::vector<std::string> rotated_then_active(const std::string& dir, const std::string& name) {
  std::vector<std::string> all;
  for (const auto& f : archives(dir, name)) {
    for (auto& l : lines(f)) all.push_back(std::move(l));
  }
  for (auto& l : lines(dir + "/" + name)) all.push_back(std::move(l));
  return all;
}

std::string gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return "<cannot open " + path + ">";
  std::string out;
  char buf[4096];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

TEST_F(FileOutputTest, RotationCutsAtMaxSizeAndRetentionKeepsTheNewestArchives) {
  const std::string output = label("output", ctx_.name());
  const int64_t removed_before =
      Metrics::global().value("logship_file_archives_removed_total", output);
  auto out = make_file_output(config("{container_name}.log", "max_size: 1KiB\nkeep_files: 2\n"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  // 60 lines of 101 bytes: a file rotates with the line that takes it past 1 KiB (11 lines),
  // so 5 archives are made and the active file keeps the last 5 lines.
  ASSERT_EQ(deliver(*out, {batch(container("a"), "r", 60, 100)}).kind,
            DeliveryResult::Kind::kDelivered);
  out->stop();   // finishes the archiver's queue: retention has run for every archive
  const auto kept = archives(dir_, "a.log");
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& f : kept) EXPECT_EQ(lines(f).size(), 11u) << f;
  const auto all = rotated_then_active(dir_, "a.log");
  ASSERT_EQ(all.size(), 27u);   // the 3 oldest archives (33 lines) are gone
  EXPECT_EQ(Metrics::global().value("logship_file_archives_removed_total", output) -
                removed_before,
            3);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string want = "r-" + std::to_string(i + 33) + " ";
    EXPECT_EQ(all[i].substr(0, want.size()), want) << i;
  }
}

TEST_F(FileOutputTest, ATornLineLeftByACrashIsCutOnceAndCounted) {
  std::ofstream(dir_ + "/a.log", std::ios::binary) << "old-0\nold-1\npartial-wri";
  const int64_t torn_before = Metrics::global().value("logship_file_torn_lines_removed_total",
                                                     label("output", ctx_.name()));
  auto out = make_file_output(config("{container_name}.log"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  ASSERT_EQ(deliver(*out, {batch(container("a"), "new", 2, 6)}).kind, DeliveryResult::Kind::kDelivered);
  ASSERT_EQ(deliver(*out, {batch(container("a"), "more", 1, 6)}).kind, DeliveryResult::Kind::kDelivered);
  out->stop();
  EXPECT_EQ(read(dir_ + "/a.log"), "old-0\nold-1\nnew-0 \nnew-1 \nmore-0 \n");
  EXPECT_EQ(Metrics::global().value("logship_file_torn_lines_removed_total",
                                                     label("output", ctx_.name())) - torn_before, 1);
}

TEST_F(FileOutputTest, ASegmentLeftUncompressedByACrashIsCompressedAtTheFirstWrite) {
  const std::string left = dir_ + "/a.log.00000000000000000001";
  std::ofstream(left, std::ios::binary) << "archived-0\narchived-1\n";
  std::ofstream(left + ".gz.tmp", std::ios::binary) << "half a gzip";
  auto out = make_file_output("path: " + dir_ + "/{container_name}.log\nformat: raw\n");
  ASSERT_TRUE(out->start(ctx_).is_ok());
  ASSERT_EQ(deliver(*out, {batch(container("a"), "x", 1, 2)}).kind, DeliveryResult::Kind::kDelivered);
  out->stop();
  EXPECT_FALSE(fs::exists(left));
  EXPECT_FALSE(fs::exists(left + ".gz.tmp"));
  EXPECT_EQ(gunzip(left + ".gz"), "archived-0\narchived-1\n");
  EXPECT_EQ(read(dir_ + "/a.log"), "x-0 \n");
}

TEST_F(FileOutputTest, SyncBatchAcknowledgesEachDeliveryAtOnce) {
  auto out = make_file_output(config("{container_name}.log", "sync: batch\n"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  EXPECT_EQ(out->max_in_flight(), 1);
  ASSERT_EQ(deliver(*out, {batch(container("a"), "s", 3, 2)}).kind, DeliveryResult::Kind::kDelivered);
  EXPECT_EQ(read(dir_ + "/a.log"), "s-0 \ns-1 \ns-2 \n");
  out->stop();
}

TEST_F(FileOutputTest, SyncIntervalAcknowledgesOnlyAfterThePeriodicSync) {
  auto out = make_file_output(config("{container_name}.log", "sync: interval\nsync_interval: 1h\n"));
  ASSERT_TRUE(out->start(ctx_).is_ok());
  EXPECT_EQ(out->max_in_flight(), 64);
  std::vector<DeliveryResult> results;
  const std::vector<SharedBatch> batches{batch(container("a"), "i", 2, 2)};
  out->deliver(batches, [&](DeliveryResult r) { results.push_back(std::move(r)); });
  // Written to the kernel, but not acknowledged before an fdatasync covers it.
  EXPECT_EQ(read(dir_ + "/a.log"), "i-0 \ni-1 \n");
  EXPECT_TRUE(results.empty());
  out->tick(SteadyClock::now() + std::chrono::minutes(1));   // before the hour: no sync yet
  EXPECT_TRUE(results.empty());
  out->tick(SteadyClock::now() + std::chrono::hours(2));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].kind, DeliveryResult::Kind::kDelivered);
  out->stop();
}

TEST_F(FileOutputTest, JsonFormatWritesOneObjectPerEventAndRawTheMessageAlone) {
  auto json = make_file_output("path: " + dir_ + "/j.log\nformat: json\ncompress: false\n");
  ASSERT_TRUE(json->start(ctx_).is_ok());
  ASSERT_EQ(deliver(*json, {batch(container("a"), "m", 2, 2)}).kind, DeliveryResult::Kind::kDelivered);
  json->stop();
  const auto objects = lines(dir_ + "/j.log");
  ASSERT_EQ(objects.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(objects[i].front(), '{') << objects[i];
    EXPECT_EQ(objects[i].back(), '}') << objects[i];
    EXPECT_NE(objects[i].find("\"message\":\"m-" + std::to_string(i) + " \""), std::string::npos)
        << objects[i];
  }
  auto raw = make_file_output("path: " + dir_ + "/r.log\nformat: raw\ncompress: false\n");
  ASSERT_TRUE(raw->start(ctx_).is_ok());
  ASSERT_EQ(deliver(*raw, {batch(container("a"), "m", 2, 2)}).kind, DeliveryResult::Kind::kDelivered);
  raw->stop();
  EXPECT_EQ(read(dir_ + "/r.log"), "m-0 \nm-1 \n");
}

TEST_F(FileOutputTest, AMisspeltEnumOptionIsRefusedWithTheNearestName) {
  const PluginInfo* p = find_plugin(PluginKind::kOutput, "file");
  ASSERT_NE(p, nullptr);
  config::Errors errors;
  OutputMaker maker = p->bind_output(YAML::Load("path: /x/y.log\nsync: intervall\n"), errors,
                                     PluginContext{PluginKind::kOutput, "f", "file"});
  EXPECT_FALSE(maker);
  EXPECT_NE(errors.to_string().find(
                R"('sync': expected one of none, batch, interval, got "intervall"; did you mean 'interval'?)"),
            std::string::npos)
      << errors.to_string();
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
