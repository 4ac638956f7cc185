// `logship fsck`: checks (and with --repair, repairs) what logship keeps on disk, offline.
//
// It lists every checkpoint, verifies every output disk buffer and docker_plugin spool record
// by record (length, CRC, and for buffers that the batch decodes), says what is undelivered,
// and can export undelivered buffer events as dead-letter lines (replayable with
// `logship dead-letters replay`) or drop a named buffer on purpose. Exit codes as e2fsck's:
// 0 clean, 1 damage found and repaired, 4 damage left, 8 could not check, 2 usage.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>

#include "config/substitution.h"
#include "daemon/buffer/batch_codec.h"
#include "daemon/buffer/spool_check.h"
#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/commands/pid_file.h"
#include "daemon/core/dead_letter_record.h"
#include "daemon/state/atomic_file.h"
#include "daemon/state/checkpoint_store.h"

namespace logship::commands {
namespace {

constexpr int kClean = 0, kRepaired = 1, kUsage = 2, kDamaged = 4, kFailed = 8;

struct FsckArgs {
  std::vector<std::string> config_args;
  std::string state_dir;
  bool repair = false;
  std::string export_path;
  std::string drop_buffer;
};

int usage_error(const std::string& why) {
  std::fprintf(stderr, "logship fsck: %s\n(logship fsck --help)\n", why.c_str());
  return kUsage;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    struct stat st {};
    if (n == "." || n == ".." || ::lstat((dir + "/" + n).c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
      continue;
    }
    out.push_back(n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string shown(const std::string& s, std::size_t max = 100) {
  return s.size() <= max ? s : s.substr(0, max) + "...";
}

class Fsck {
 public:
  explicit Fsck(const FsckArgs& a) : a_(a) {}

  int run() {
    const std::string& dir = a_.state_dir;
    const std::optional<long> pid = read_pid_file(pid_file_path(dir));
    if (pid && is_running_logship(*pid)) {
      std::fprintf(stderr,
                   "logship fsck: logship (pid %ld) is running on %s; stop it first (fsck reads "
                   "and repairs what the daemon has open)\n",
                   *pid, dir.c_str());
      return kFailed;
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::fprintf(stderr, "logship fsck: state_dir %s: %s\n", dir.c_str(),
                   ::stat(dir.c_str(), &st) != 0 ? std::strerror(errno) : "not a directory");
      return kFailed;
    }
    std::printf("state_dir %s\n", dir.c_str());
    if (!check_checkpoints()) return kFailed;
    if (!a_.drop_buffer.empty()) return drop_buffer();
    if (!a_.export_path.empty()) {
      export_fd_ = ::open(a_.export_path.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (export_fd_ < 0) {
        std::fprintf(stderr, "logship fsck: cannot create %s: %s\n", a_.export_path.c_str(),
                     std::strerror(errno));
        return kFailed;
      }
    }
    for (const std::string& out : subdirs(dir + "/buffer")) {
      if (!check_one("buffer " + out, dir + "/buffer/" + out, "buffer/" + out, out, true)) {
        failed_ = true;
      }
    }
    for (const std::string& id : subdirs(dir + "/spool")) {
      if (!check_one("docker_plugin spool " + id, dir + "/spool/" + id, "docker_plugin:" + id,
                     "", false)) {
        failed_ = true;
      }
    }
    if (export_fd_ >= 0) {
      const bool synced = ::fsync(export_fd_) == 0;
      if (::close(export_fd_) != 0 || !synced) {
        std::fprintf(stderr, "logship fsck: cannot write %s: %s\n", a_.export_path.c_str(),
                     std::strerror(errno));
        failed_ = true;
      } else {
        std::printf("exported %llu undelivered events to %s (logship dead-letters replay %s "
                    "--output NAME sends them)\n",
                    static_cast<unsigned long long>(exported_), a_.export_path.c_str(),
                    a_.export_path.c_str());
      }
    }
    if (failed_) {
      std::printf("result: could not check everything\n");
      return kFailed;
    }
    if (damaged_ == 0 && repaired_ == 0) {
      std::printf("result: clean\n");
      return kClean;
    }
    if (damaged_ > 0) {
      std::printf("result: damaged (%llu problems; --repair takes out what it can)\n",
                  static_cast<unsigned long long>(damaged_));
      return kDamaged;
    }
    std::printf("result: repaired (%llu problems)\n", static_cast<unsigned long long>(repaired_));
    return kRepaired;
  }

 private:
  bool check_checkpoints() {
    CheckpointStore store;
    Status failed;
    const std::string path = a_.state_dir + "/checkpoints.json";
    switch (store.load(path, &positions_, &failed)) {
      case CheckpointStore::Load::kOk:
        std::printf("checkpoints %s: %zu streams\n", path.c_str(), positions_.size());
        break;
      case CheckpointStore::Load::kMissing:
        std::printf("checkpoints %s: none\n", path.c_str());
        break;
      case CheckpointStore::Load::kCorrupt: {
        damaged_++;
        std::printf("checkpoints %s: CORRUPT (%s); the daemon sets it aside and loads %s.prev\n",
                    path.c_str(), failed.message().c_str(), path.c_str());
        std::map<std::string, Position> prev;
        Status ignored;
        if (store.load(path + ".prev", &prev, &ignored) == CheckpointStore::Load::kOk) {
          positions_ = std::move(prev);
          std::printf("checkpoints %s.prev: %zu streams (shown below)\n", path.c_str(),
                      positions_.size());
        }
        break;
      }
    }
    for (const auto& [key, pos] : positions_) {
      std::printf("  %s offset=%llu%s%s\n", shown(key).c_str(),
                  static_cast<unsigned long long>(pos.offset), pos.text.empty() ? "" : " ",
                  shown(pos.text, 60).c_str());
    }
    return true;
  }

  bool check_one(const std::string& what, const std::string& dir, const std::string& key,
                 const std::string& output, bool batches) {
    const auto it = positions_.find(key);
    const uint64_t committed = it != positions_.end() ? it->second.offset : 0;
    uint64_t events = 0, undecodable = 0;
    BatchDecoder decoder;
    std::string line;
    auto on_record = [&](uint64_t at, std::string_view payload) {
      if (!batches) return;
      Result<BatchPtr> decoded = decoder.decode(payload);
      if (!decoded.is_ok()) {
        undecodable++;
        std::printf("  record at offset %llu does not decode (%s); the daemon skips it\n",
                    static_cast<unsigned long long>(at), decoded.status().message().c_str());
        return;
      }
      BatchPtr b = std::move(decoded).value();
      events += b->size();
      if (export_fd_ < 0) return;
      for (const Event& e : b->events()) {
        line.clear();
        dead_letter::encode(line, output, "undelivered",
                            "exported by logship fsck from the disk buffer", e, b->source());
        if (!write_all(line)) return;
        exported_++;
      }
    };
    auto checked = check_spool(dir, committed, on_record);
    if (!checked.is_ok()) {
      std::printf("%s: cannot read: %s\n", what.c_str(), checked.status().message().c_str());
      return false;
    }
    const SpoolCheck& c = checked.value();
    std::printf("%s: %llu segments, %llu records, offsets %llu..%llu, committed %llu\n",
                what.c_str(), static_cast<unsigned long long>(c.segments),
                static_cast<unsigned long long>(c.records),
                static_cast<unsigned long long>(c.begin), static_cast<unsigned long long>(c.end),
                static_cast<unsigned long long>(committed));
    std::printf("  undelivered: %llu records", static_cast<unsigned long long>(c.undelivered_records));
    if (batches) std::printf(", %llu events", static_cast<unsigned long long>(events));
    std::printf(", %llu bytes\n", static_cast<unsigned long long>(c.undelivered_bytes));
    for (const SpoolDamage& d : c.damage) {
      std::printf("  damage: %llu bytes at offset %llu in %s (%s)\n",
                  static_cast<unsigned long long>(d.bytes),
                  static_cast<unsigned long long>(d.offset), d.segment.c_str(),
                  d.tail ? "runs to the segment's end: cut" : "records follow: split out");
    }
    damaged_ += undecodable;
    if (c.damage.empty()) return true;
    if (!a_.repair) {
      damaged_ += c.damage.size();
      return true;
    }
    auto fixed = repair_spool(c);
    if (!fixed.is_ok()) {
      std::printf("  repair failed: %s\n", fixed.status().message().c_str());
      damaged_ += c.damage.size();
      return true;
    }
    for (const std::string& s : fixed.value()) std::printf("  repaired: %s\n", s.c_str());
    repaired_ += c.damage.size();
    return true;
  }

  bool write_all(const std::string& s) {
    const char* p = s.data();
    std::size_t n = s.size();
    while (n > 0) {
      const ssize_t w = ::write(export_fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        std::fprintf(stderr, "logship fsck: cannot write %s: %s\n", a_.export_path.c_str(),
                     std::strerror(errno));
        failed_ = true;
        ::close(export_fd_);
        export_fd_ = -1;
        return false;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  // Deletes an output's disk buffer and its checkpoint: its undelivered events are given up.
  int drop_buffer() {
    const std::string& name = a_.drop_buffer;
    const std::string dir = a_.state_dir + "/buffer/" + name;
    struct stat st {};
    if (name.find('/') != std::string::npos || name == "." || name == ".." ||
        ::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::fprintf(stderr, "logship fsck: no disk buffer named '%s' in %s/buffer\n",
                   name.c_str(), a_.state_dir.c_str());
      return kUsage;
    }
    const auto it = positions_.find("buffer/" + name);
    auto c = check_spool(dir, it != positions_.end() ? it->second.offset : 0);
    const uint64_t lost = c.is_ok() ? c.value().undelivered_records : 0;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      std::fprintf(stderr, "logship fsck: %s: %s\n", dir.c_str(), std::strerror(errno));
      return kFailed;
    }
    bool ok = true;
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      if (::unlink((dir + "/" + n).c_str()) != 0) ok = false;
    }
    ::closedir(d);
    if (!ok || ::rmdir(dir.c_str()) != 0) {
      std::fprintf(stderr, "logship fsck: cannot remove %s: %s\n", dir.c_str(),
                   std::strerror(errno));
      return kFailed;
    }
    CheckpointStore store;
    Status s = store.open(a_.state_dir);
    if (s.is_ok()) {
      store.forget("buffer/" + name);
      s = store.flush();
    }
    if (!s.is_ok()) {
      std::fprintf(stderr, "logship fsck: removed %s but cannot update the checkpoints: %s\n",
                   dir.c_str(), s.message().c_str());
      return kFailed;
    }
    std::printf("dropped buffer %s: %llu undelivered records given up\n", name.c_str(),
                static_cast<unsigned long long>(lost));
    return kRepaired;
  }

  const FsckArgs& a_;
  std::map<std::string, Position> positions_;
  int export_fd_ = -1;
  uint64_t exported_ = 0;
  uint64_t damaged_ = 0;
  uint64_t repaired_ = 0;
  bool failed_ = false;
};

}  // namespace

int fsck(const std::vector<std::string>& args) {
  FsckArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& x = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    if (x == "--repair") {
      a.repair = true;
    } else if (x == "--export") {
      if (!value(&a.export_path)) return usage_error("--export needs a file name");
    } else if (x == "--drop-buffer") {
      if (!value(&a.drop_buffer)) return usage_error("--drop-buffer needs an output name");
    } else if (x == "--state-dir") {
      if (!value(&a.state_dir)) return usage_error("--state-dir needs a directory");
    } else {
      a.config_args.push_back(x);
    }
  }
  if (a.state_dir.empty()) {
    ConfigArgs ca = parse_config_args(a.config_args);
    if (!ca.ok) return usage_error(ca.error);
    config::OfflineSecretsScope no_secret_files;   // only state_dir is needed
    std::optional<config::Config> cfg = load_or_report(ca);
    if (!cfg) return kFailed;
    a.state_dir = cfg->service.state_dir;
  } else if (!a.config_args.empty()) {
    return usage_error("give either --state-dir or a config, not both");
  }
  return Fsck(a).run();
}

}  // namespace logship::commands
