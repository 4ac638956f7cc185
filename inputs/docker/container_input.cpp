// Container log tailer behind two input types: `docker` (json-file driver under
// <docker_root>/containers/<id>/<id>-json.log) and `cri` (containerd/CRI-O under
// <pods_root>/<namespace>_<pod>_<uid>/<container>/<N>.log).
//
// One thread per input: inotify wakes it (directory watches only: IN_MODIFY of a file in a
// watched directory is reported on the directory), a rescan every rescan_interval covers what
// inotify misses (queue overflow, a root that appears later). Files are read round-robin with a
// byte budget per file per round so a hot container cannot starve the others; emit() blocking
// on full outputs is the backpressure (the file is the buffer).
//
// Identity and checkpoints: a file is its (dev, inode); the checkpoint key is
// "<type>:<dev>:<inode>" and Position.text holds a fingerprint of the file's first bytes, so a
// reused inode (or a file truncated and rewritten while we were down) restarts at 0. The
// position emitted is the offset after the last fully emitted line, or the start of a partial
// line still being merged, so a restart re-reads what was not delivered.
//
// Rotation: when the path names another inode (rename + create: Docker, kubelet, logrotate
// `create`) or is gone (container removed), the old descriptor is read to its end and kept for
// rotate_wait without growth, then released and its checkpoint forgotten. A file that shrank
// (copytruncate) restarts at 0; what was appended between our last read and the copy is read
// from the copy (<name>.1) when its first bytes match.
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/core/json_writer.h"
#include "daemon/core/safe_file.h"
#include "inputs/docker/file_decoder.h"
#include "inputs/docker/metadata.h"

namespace logship::plugins {
namespace {

using config::ByteSize;
using config::Millis;
using docker::ContainerFilter;
using docker::ContainerMeta;
using docker::FileDecoder;
using docker::LogFormat;

struct ContainerLogOptions {
  std::string read_from = "head";
  ByteSize max_line_size{1 << 20};
  std::string on_malformed = "raw";
  Millis partial_timeout{5000};
  Millis rescan_interval{1000};
  Millis rotate_wait{5000};
  ByteSize read_size{256 << 10};
  ByteSize round_bytes{1 << 20};
  int64_t max_open_files = 0;
  bool exit_at_eof = false;
  std::vector<std::string> include_names, exclude_names, include_images, exclude_images;
  std::vector<std::string> include_labels, exclude_labels;
  std::string opt_out_label = "logship.enable";
  // docker only: container metadata is written by whoever runs the container.
  ByteSize max_metadata_size{1 << 20};
  int64_t max_labels = 64;
  ByteSize max_labels_size{16 << 10};
  ByteSize max_label_value_size{4 << 10};

  template <class O>
  static void add_common(config::OptionSchema<O>& s, bool docker) {
    using C = ContainerLogOptions;
    auto m = [](auto C::*p) { return static_cast<std::remove_reference_t<decltype(C{}.*p)> O::*>(p); };
    s.add("read_from", m(&C::read_from),
          "Where to start in files found at startup without a checkpoint (files that appear "
          "later are always read from the start).",
          config::one_of({"head", "tail"}))
        .add("max_line_size", m(&C::max_line_size),
             "Cap of a merged message (partial chunks); the rest is dropped and the event "
             "marked truncated.",
             config::at_least(ByteSize(1024), "1KiB"))
        .add("on_malformed", m(&C::on_malformed),
             "A line that cannot be decoded: raw = pass it on as the message, flagged "
             "malformed; skip = drop it. Both count logship_input_malformed_total.",
             config::one_of({"raw", "skip"}))
        .add("partial_timeout", m(&C::partial_timeout),
             "Emit an unfinished partial line after this long without its next chunk.",
             config::at_least(Millis(1), "1ms"))
        .add("rescan_interval", m(&C::rescan_interval),
             "Full rescan period, besides inotify (new containers, a root that appears later).",
             config::at_least(Millis(10), "10ms"))
        .add("rotate_wait", m(&C::rotate_wait),
             "A rotated or deleted file is released after this long at its end without growth.",
             config::at_least(Millis(0), "0"))
        .add("read_size", m(&C::read_size), "Bytes per read() call.",
             config::at_least(ByteSize(4096), "4KiB"))
        .add("round_bytes", m(&C::round_bytes),
             "Bytes read from one file before the next file gets its turn.",
             config::at_least(ByteSize(4096), "4KiB"))
        .add("max_open_files", m(&C::max_open_files),
             "Log files held open at once; beyond it idle files are closed and reopened when "
             "they grow (read in turn). 0 = half the process's open-file limit "
             "(RLIMIT_NOFILE), so outputs, checkpoints and connections keep theirs.",
             config::in_range(0, 1 << 24))
        .add("exit_at_eof", m(&C::exit_at_eof),
             "Report the input finished once every file is read to its end (benchmarks; with "
             "service.exit_when_done the daemon then exits).")
        .add("include_names", m(&C::include_names),
             "Container name globs to read; empty = all.")
        .add("exclude_names", m(&C::exclude_names), "Container name globs to skip.");
    if (docker) {
      s.add("include_images", m(&C::include_images), "Image globs (Config.Image) to read.")
          .add("exclude_images", m(&C::exclude_images), "Image globs to skip.")
          .add("include_labels", m(&C::include_labels),
               "Label patterns \"key\" or \"key=value\" (globs); a container needs one match.")
          .add("exclude_labels", m(&C::exclude_labels), "Label patterns to skip.")
          .add("opt_out_label", m(&C::opt_out_label),
               "Containers with this label set to false are skipped; empty = none.");
    }
  }
};

struct DockerOptions : ContainerLogOptions {
  std::string docker_root = "/var/lib/docker";
  static const config::OptionSchema<DockerOptions>& schema() {
    static const auto s = [] {
      config::OptionSchema<DockerOptions> s;
      s.add("docker_root", &DockerOptions::docker_root,
            "Docker data-root; logs are read from <docker_root>/containers/*/*-json.log.");
      add_common(s, true);
      using D = DockerOptions;
      s.add("max_metadata_size", static_cast<ByteSize D::*>(&D::max_metadata_size),
            "A container's config.v2.json larger than this is not read (nor a symlink, FIFO or "
            "device there): its logs are shipped with the container id only, counted in "
            "logship_input_metadata_skipped_total.",
            config::at_least(ByteSize(4096), "4KiB"))
          .add("max_labels", static_cast<int64_t D::*>(&D::max_labels),
               "Labels per container carried on events; the rest are dropped (filters still "
               "see them), counted in logship_input_labels_dropped_total.",
               config::in_range(0, 100000))
          .add("max_labels_size", static_cast<ByteSize D::*>(&D::max_labels_size),
               "Total bytes of label keys and values per container carried on events.",
               config::at_least(ByteSize(0), "0"))
          .add("max_label_value_size", static_cast<ByteSize D::*>(&D::max_label_value_size),
               "A label whose value is longer than this is dropped from events.",
               config::at_least(ByteSize(0), "0"));
      return s;
    }();
    return s;
  }
};

struct CriOptions : ContainerLogOptions {
  std::string pods_root = "/var/log/pods";
  static const config::OptionSchema<CriOptions>& schema() {
    static const auto s = [] {
      config::OptionSchema<CriOptions> s;
      s.add("pods_root", &CriOptions::pods_root,
            "Kubernetes pod log root: <pods_root>/<namespace>_<pod>_<uid>/<container>/<N>.log.");
      add_common(s, false);
      return s;
    }();
    return s;
  }
};

uint64_t fnv1a(const char* p, std::size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

constexpr std::size_t kFingerprintBytes = 256;

// "fp=<len>:<hash hex>" of the file's first `len` bytes (len <= kFingerprintBytes).
std::string fingerprint_text(std::size_t len, uint64_t hash) {
  char b[64];
  int n = std::snprintf(b, sizeof b, "fp=%zu:%016llx", len, static_cast<unsigned long long>(hash));
  return std::string(b, static_cast<std::size_t>(n));
}

bool parse_fingerprint(const std::string& text, std::size_t* len, uint64_t* hash) {
  unsigned long long h = 0;
  std::size_t l = 0;
  if (std::sscanf(text.c_str(), "fp=%zu:%llx", &l, &h) != 2 || l > kFingerprintBytes) return false;
  *len = l;
  *hash = h;
  return true;
}

// Hash of the first `len` bytes of fd; false if the file is shorter.
bool hash_prefix(int fd, std::size_t len, uint64_t* hash) {
  char b[kFingerprintBytes];
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, b + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  *hash = fnv1a(b, len);
  return true;
}

bool read_prefix(int fd, std::size_t len, std::string* out) {
  out->resize(len);
  std::size_t got = 0;
  while (got < len) {
    ssize_t n = ::pread(fd, out->data() + got, len - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// The entries of `dir`, sorted. False (errno kept) when it cannot be listed: with EMFILE or
// ENFILE that says nothing about what is in it, so callers keep what they knew.
bool list_dir(const std::string& dir, bool dirs_only, std::vector<std::string>* out) {
  out->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  while (true) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (dirs_only && e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    out->emplace_back(n);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    return false;
  }
  std::sort(out->begin(), out->end());
  return true;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool glob_match(const char* pattern, const std::string& name) {
  return ::fnmatch(pattern, name.c_str(), 0) == 0;
}

struct Container {
  std::string key;   // docker: id; cri: "<pod dir>/<container>"
  std::string dir;
  ContainerMeta meta;
  bool has_meta = false;
  // The config.v2.json last tried (lstat), whatever came of it: a file once rejected or
  // parsed is not read again until it changes.
  bool meta_tried = false;
  struct timespec meta_mtime{};
  ino_t meta_ino = 0;
  off_t meta_size = -1;
  bool labels_limit_logged = false;
  bool selected = false;
  std::string reject_reason;
  bool seen = false;
};

struct Tail {
  Tail(const docker::DecoderOptions& o, docker::DockerLineDecoder* json, docker::DecoderStats* st,
       std::atomic<uint64_t>* metric, log::RateLimit* limit)
      : dec(o, json, st, metric, limit) {}
  ~Tail() {
    if (fd >= 0) ::close(fd);
    if (lag != nullptr) Metrics::global().remove(kLagMetric, lag_labels);
  }
  static constexpr std::string_view kLagMetric = "logship_input_file_lag_bytes";
  // Bytes of the file not read yet, refreshed at every scan.
  void update_lag() {
    struct stat st{};
    if (lag != nullptr && fd >= 0 && ::fstat(fd, &st) == 0) {
      lag->store(std::max<int64_t>(0, static_cast<int64_t>(st.st_size) - static_cast<int64_t>(read_off)),
                 std::memory_order_relaxed);
    }
  }
  std::atomic<int64_t>* lag = nullptr;
  std::string lag_labels;
  std::string path;
  std::string container;
  std::string key;
  int fd = -1;
  uint64_t read_off = 0;
  std::string carry;
  MemoryCharge carry_mem{MemoryPart::kReadBuffers};
  FileDecoder dec;
  std::unique_ptr<StreamHandle> stream;
  std::shared_ptr<const SourceInfo> source;
  std::size_t fp_len = 0;
  uint64_t fp_hash = 0;
  std::string prefix;         // the first fp_len bytes themselves
  std::string fp_text;
  uint64_t emitted = UINT64_MAX;
  bool gone = false;          // the path no longer names this file: drain, then release
  // Closed to stay within max_open_files; everything else (offset, partial lines) is kept and
  // the file is reopened by path, checked to be the same inode, when it grows.
  bool parked = false;
  uint64_t opened_round = 0;  // read round in which the descriptor was (re)opened
  int missed_scans = 0;       // parked and gone: complete scans that did not find it
  bool at_eof = false;
  TimePoint last_growth{};
  bool forget = true;         // drop the checkpoint when released (excluded: kept)
  bool retire = false;        // released but still on disk (rotated): checkpoint kept
  struct stat released{};     // the file when released: tells it from a reuse of its inode
};

// A released rotated file still on disk, identified by size and mtime besides its inode.
struct Retired {
  off_t size = 0;
  struct timespec mtime{};
  bool same_file(const struct stat& st) const {
    return st.st_size == size && st.st_mtim.tv_sec == mtime.tv_sec &&
           st.st_mtim.tv_nsec == mtime.tv_nsec;
  }
};

class ContainerLogInput final : public Input {
 public:
  ContainerLogInput(const ContainerLogOptions& o, LogFormat format, std::string root)
      : o_(o), format_(format), root_(std::move(root)) {
    dopts_.format = format;
    dopts_.max_line_size = o.max_line_size.bytes;
    dopts_.skip_malformed = o.on_malformed == "skip";
    dopts_.partial_timeout = o.partial_timeout;
    filter_.include_names = o.include_names;
    filter_.exclude_names = o.exclude_names;
    filter_.include_images = o.include_images;
    filter_.exclude_images = o.exclude_images;
    filter_.include_labels = o.include_labels;
    filter_.exclude_labels = o.exclude_labels;
    filter_.opt_out_label = o.opt_out_label;
    label_limits_.max_labels = static_cast<std::size_t>(o.max_labels);
    label_limits_.max_total_bytes = o.max_labels_size.bytes;
    label_limits_.max_value_bytes = o.max_label_value_size.bytes;
  }
  ~ContainerLogInput() override {
    stop();
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
  }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    dopts_.input_name = ctx.name();
    std::string labels = "input=";
    json::append_string(labels, ctx.name());
    malformed_metric_ = &Metrics::global().counter(
        "logship_input_malformed_total", labels, "Lines that could not be decoded");
    truncated_metric_ = &Metrics::global().counter(
        "logship_input_truncated_total", labels, "Events cut at max_line_size");
    metadata_skipped_metric_ = &Metrics::global().counter(
        "logship_input_metadata_skipped_total", labels,
        "Container metadata files not read: not a regular file, a symlink, over "
        "max_metadata_size, or not a container config");
    labels_dropped_metric_ = &Metrics::global().counter(
        "logship_input_labels_dropped_total", labels,
        "Container labels left off events by max_labels, max_labels_size, max_label_value_size");
    parked_metric_ = &Metrics::global().gauge(
        "logship_input_files_parked", labels,
        "Followed files closed for now to stay within max_open_files (reopened in turn)");
    max_open_ = o_.max_open_files > 0 ? static_cast<std::size_t>(o_.max_open_files)
                                      : default_max_open_files();
    fs_errors_metric_ = &Metrics::global().counter(
        "logship_input_fs_errors_total", labels,
        "Directory listings and file opens that failed (EMFILE, EACCES...), retried at the next "
        "scan");
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      log::warn(component(), "inotify unavailable; polling only",
                log::kv("input", ctx.name()) + log::kv("error", std::strerror(errno)));
    }
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string_view component() const { return format_ == LogFormat::kDocker ? "docker" : "cri"; }
  std::string scan_root() const {
    return format_ == LogFormat::kDocker ? root_ + "/containers" : root_;
  }

  // How often parked files are checked for growth (a stat each).
  static constexpr auto kUnparkInterval = std::chrono::milliseconds(100);

  void run() {
    buf_.resize(o_.read_size.bytes + simdjson::SIMDJSON_PADDING + 4096);
    TimePoint next_scan{};
    bool finished_reported = false;
    while (!ctx_->stopping() && !aborted_) {
      TimePoint now = SteadyClock::now();
      if (rescan_ || now >= next_scan) {
        rescan_ = false;
        scan();
        next_scan = SteadyClock::now() + o_.rescan_interval;
      }
      if (now >= next_unpark_) {
        unpark_round();
        next_unpark_ = now + kUnparkInterval;
      }
      bool progress = read_round();
      now = SteadyClock::now();
      housekeeping(now);
      if (o_.exit_at_eof && !finished_reported && scanned_once_ && !progress && all_idle()) {
        finished_reported = true;
        log::info(component(), "all files read to their end", log::kv("input", ctx_->name()));
        ctx_->finished();
      }
      if (progress) {
        drain_inotify(0);
        continue;
      }
      // Idle: sleep until a file changes, a timer is due, or a poll period passed (inotify
      // misses changes on some filesystems).
      TimePoint wake = std::min(next_scan, now + std::chrono::milliseconds(250));
      for (auto& [key, t] : tails_) {
        if (auto f = t->dec.next_flush()) wake = std::min(wake, *f);
        if (auto f = t->stream->next_flush()) wake = std::min(wake, *f);
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
      drain_inotify(static_cast<int>(std::clamp<int64_t>(ms, 0, 250)));
    }
    for (auto& [key, t] : tails_) t->stream->flush(true);
    for (auto& t : closing_) t->stream->flush(true);
    log::info(component(), "input stopped",
              log::kv("input", ctx_->name()) + log::kv("lines", static_cast<int64_t>(stats_.lines)) +
                  log::kv("events", static_cast<int64_t>(stats_.events)) +
                  log::kv("malformed", static_cast<int64_t>(stats_.malformed)) +
                  log::kv("truncated", static_cast<int64_t>(stats_.truncated)) +
                  log::kv("dropped_bytes", static_cast<int64_t>(stats_.dropped_bytes)) +
                  log::kv("files", static_cast<int64_t>(tails_.size())));
  }

  bool all_idle() const {
    for (const auto& [key, t] : tails_) {
      if (!t->at_eof || t->dec.has_pending() || !t->carry.empty()) return false;
    }
    return true;
  }

  // Waits up to timeout_ms for inotify events; structural ones ask for a rescan.
  void drain_inotify(int timeout_ms) {
    if (inotify_fd_ < 0) {
      if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return;
    }
    pollfd p{inotify_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r <= 0) return;
    alignas(inotify_event) char b[16384];
    while (true) {
      ssize_t n = ::read(inotify_fd_, b, sizeof b);
      if (n <= 0) break;
      for (char* q = b; q < b + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(q);
        if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_Q_OVERFLOW |
                        IN_DELETE_SELF | IN_IGNORED | IN_CLOSE_WRITE)) {
          rescan_ = true;
        }
        q += sizeof(inotify_event) + ev->len;
      }
    }
  }

  void watch(const std::string& dir, uint32_t mask) {
    if (inotify_fd_ < 0 || watched_.count(dir)) return;
    int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), mask | IN_ONLYDIR);
    if (wd >= 0) watched_[dir] = wd;
  }

  // ---- discovery ----

  void scan() {
    for (auto& [key, t] : tails_) t->update_lag();
    for (auto& t : closing_) t->update_lag();
    const std::string top = scan_root();
    if (!is_dir(top)) {
      if (!root_missing_logged_) {
        root_missing_logged_ = true;
        log::warn(component(), "log root not found; watching for it to appear",
                  log::kv("input", ctx_->name()) + log::kv("path", top));
      }
      for (auto& [k, c] : containers_) c.seen = false;
      for (auto& [path, key] : by_path_) {
        if (auto t = tails_.find(key); t != tails_.end()) mark_gone(*t->second);
      }
      by_path_.clear();
      forget_unseen_containers();
      scanned_once_ = true;
      return;
    }
    if (root_missing_logged_) {
      root_missing_logged_ = false;
      log::info(component(), "log root found", log::kv("input", ctx_->name()) + log::kv("path", top));
    }
    constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
    constexpr uint32_t kLeafMask = kDirMask | IN_MODIFY | IN_CLOSE_WRITE;
    watch(top, kDirMask);
    std::vector<std::string> entries;
    if (!list_dir(top, true, &entries)) {
      // Out of descriptors or the like: this scan knows nothing; keep every file and container.
      fs_error("list the log root", top, std::strerror(errno));
      return;
    }
    for (auto& [k, c] : containers_) c.seen = false;
    std::set<std::string> present_paths;
    present_keys_.clear();
    unlisted_dirs_.clear();
    std::vector<std::string> names, files;
    if (format_ == LogFormat::kDocker) {
      for (const std::string& id : entries) {
        std::string dir = top + "/" + id;
        watch(dir, kLeafMask);
        Container& c = container(id, dir);
        if (!refresh_docker_meta(c)) {
          // Its metadata could not be read for now (EMFILE...): its logs wait on disk rather
          // than go out without name and labels, and its files are not taken for gone.
          unlisted_dirs_.push_back(dir + "/");
          continue;
        }
        if (!c.selected) continue;
        if (!list_dir(dir, false, &files)) {
          unlisted(dir);
          continue;
        }
        for (const std::string& f : files) {
          if (glob_match("*-json.log", f)) {
            present_paths.insert(dir + "/" + f);
            note_present(dir + "/" + f);
          } else if (glob_match("*-json.log.*", f) && !glob_match("*.gz", f)) {
            resume_rotated(c, dir + "/" + f);
          }
        }
      }
    } else {
      for (const std::string& pod : entries) {
        std::string pdir = top + "/" + pod;
        watch(pdir, kDirMask);
        if (!list_dir(pdir, true, &names)) {
          unlisted(pdir);
          continue;
        }
        for (const std::string& name : names) {
          std::string dir = pdir + "/" + name;
          ContainerMeta meta;
          if (!docker::parse_cri_pod_dir(pod, name, &meta)) continue;
          watch(dir, kLeafMask);
          Container& c = container(pod + "/" + name, dir);
          if (!c.has_meta) {
            c.meta = std::move(meta);
            c.has_meta = true;
            select(c);
          }
          if (!c.selected) continue;
          if (!list_dir(dir, false, &files)) {
            unlisted(dir);
            continue;
          }
          for (const std::string& f : files) {
            if (glob_match("*.log", f)) {
              present_paths.insert(dir + "/" + f);
              note_present(dir + "/" + f);
            } else if (glob_match("*.log.*", f) && !glob_match("*.gz", f) &&
                       !glob_match("*.tmp", f)) {
              resume_rotated(c, dir + "/" + f);
            }
          }
        }
      }
    }
    // Files whose path now names another inode, or nothing: drain them to their end.
    // A path in a directory this scan could not list is not known to be gone.
    for (auto it = by_path_.begin(); it != by_path_.end();) {
      auto t = tails_.find(it->second);
      bool same = false;
      if (t != tails_.end() && in_unlisted_dir(it->first)) {
        same = true;
      } else if (t != tails_.end() && present_paths.count(it->first)) {
        struct stat st{};
        if (::stat(it->first.c_str(), &st) == 0) {
          same = full_key(st) == t->second->key;
        } else {
          same = errno != ENOENT && errno != ENOTDIR;   // ENOMEM, EACCES...: not known gone
        }
      }
      if (!same) {
        if (t != tails_.end()) mark_gone(*t->second);
        it = by_path_.erase(it);
      } else {
        ++it;
      }
    }
    for (const std::string& path : present_paths) {
      if (!by_path_.count(path)) open_tail(path, container_of(path), !scanned_once_, std::nullopt);
    }
    for (auto& [key, t] : tails_) {
      if (!t->gone && !t->parked) verify_fingerprint(*t);
    }
    // Checkpoints of released rotated files are kept while the file exists, so a restart can
    // tell a rotated file it read (checkpoint) from one it never saw (none: read from head).
    // A scan can miss a file that is being renamed (Docker shifting <name>.1 to <name>.2 between
    // readdir and stat): forgetting its checkpoint then makes the next scan read the whole file
    // again. Only a file missing from two complete scans in a row is gone.
    for (auto it = retired_.begin(); it != retired_.end() && unlisted_dirs_.empty();) {
      if (present_keys_.count(it->first)) {
        retired_missed_.erase(it->first);
        ++it;
        continue;
      }
      if (retired_missed_.insert(it->first).second) {
        ++it;
        continue;
      }
      retired_missed_.erase(it->first);
      ctx_->forget_position(it->first);
      it = retired_.erase(it);
    }
    if (unlisted_dirs_.empty()) forget_deleted_parked();
    forget_unseen_containers();
    scanned_once_ = true;
  }

  // A directory that could not be listed: its containers and files stay as they were.
  void unlisted(const std::string& dir) {
    fs_error("list a directory", dir, std::strerror(errno));
    unlisted_dirs_.push_back(dir + "/");
    for (auto& [k, c] : containers_) {
      if (in_unlisted_dir(c.dir)) c.seen = true;
    }
  }

  bool in_unlisted_dir(const std::string& path) const {
    for (const std::string& d : unlisted_dirs_) {
      if (path.compare(0, d.size(), d) == 0) return true;
    }
    return false;
  }

  void note_present(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) present_keys_.insert(full_key(st));
  }

  std::string container_of(const std::string& path) const {
    std::string dir = path.substr(0, path.rfind('/'));
    for (const auto& [k, c] : containers_) {
      if (c.dir == dir) return k;
    }
    return {};
  }

  Container& container(const std::string& key, const std::string& dir) {
    auto [it, inserted] = containers_.try_emplace(key);
    Container& c = it->second;
    c.seen = true;
    if (inserted) {
      c.key = key;
      c.dir = dir;
      if (format_ == LogFormat::kDocker) c.meta.id = key;
    }
    return c;
  }

  void forget_unseen_containers() {
    for (auto it = containers_.begin(); it != containers_.end();) {
      if (it->second.seen) {
        ++it;
        continue;
      }
      watched_.erase(it->second.dir);   // the kernel drops the watch of a deleted directory
      it = containers_.erase(it);
    }
  }

  // False when the file is there but could not be read for now and nothing is known yet.
  bool refresh_docker_meta(Container& c) {
    const std::string path = c.dir + "/config.v2.json";
    struct stat st{};
    // lstat: a symlink is judged as itself, never by what it points to.
    if (::lstat(path.c_str(), &st) != 0) {
      if (!c.has_meta) select(c);   // no metadata (yet): only the id is known
      return true;
    }
    if (c.meta_tried && st.st_ino == c.meta_ino && st.st_size == c.meta_size &&
        st.st_mtim.tv_sec == c.meta_mtime.tv_sec && st.st_mtim.tv_nsec == c.meta_mtime.tv_nsec) {
      return true;
    }
    std::string text;
    const SafeRead r = read_file_safely(path, SafeReadLimits{o_.max_metadata_size.bytes, false}, &text);
    if (r.outcome == SafeRead::Outcome::kFailed || r.outcome == SafeRead::Outcome::kMissing) {
      // EMFILE, EACCES, Docker replacing the file: nothing is known about it; the next scan
      // tries again. Out of descriptors or memory passes: until then a container never seen
      // with metadata waits. Any other error may last: its logs go out with the id only.
      if (r.outcome == SafeRead::Outcome::kFailed) fs_error("read container metadata", path, r.error);
      const bool passing = r.err == EMFILE || r.err == ENFILE || r.err == ENOMEM;
      if (passing && !c.has_meta && !c.meta_tried) return false;
      if (!c.has_meta) select(c);
      return true;
    }
    c.meta_tried = true;
    c.meta_ino = st.st_ino;
    c.meta_size = st.st_size;
    c.meta_mtime = st.st_mtim;
    ContainerMeta meta;
    std::string err = r.error;
    if (!r.ok() || !docker::parse_container_config(text, &meta, &err)) {
      metadata_skipped_metric_->fetch_add(1, std::memory_order_relaxed);
      uint64_t suppressed = 0;
      if (meta_limit_.allow(&suppressed)) {
        log::warn(component(), "container metadata not read; its logs are shipped without it",
                  log::kv("input", ctx_->name()) + log::kv("path", path) + log::kv("error", err) +
                      log::kv("suppressed", static_cast<int64_t>(suppressed)));
      }
      if (!c.has_meta) select(c);
      return true;
    }
    meta.id = c.key;   // the directory is the truth; ID only confirms it
    c.meta = std::move(meta);
    c.has_meta = true;
    select(c);   // on every label: filters see what the events will not carry
    limit_labels(c);
    // SourceInfo is shared and immutable: later batches of the container's files take a new one.
    for (auto& [key, t] : tails_) {
      if (t->container == c.key) {
        t->source = docker::make_source(ctx_->name(), t->key, c.meta, t->path);
      }
    }
    return true;
  }

  void limit_labels(Container& c) {
    const std::size_t before = c.meta.labels.size();
    const std::size_t dropped = docker::limit_labels(label_limits_, &c.meta.labels);
    if (dropped == 0) return;
    labels_dropped_metric_->fetch_add(dropped, std::memory_order_relaxed);
    if (c.labels_limit_logged) return;
    c.labels_limit_logged = true;
    log::warn(component(), "container labels over the limits; dropped from its events",
              log::kv("input", ctx_->name()) + log::kv("container", c.key) +
                  log::kv("name", c.meta.name) + log::kv("labels", static_cast<int64_t>(before)) +
                  log::kv("dropped", static_cast<int64_t>(dropped)));
  }

  // A directory listing or an open that failed: counted, logged (rate-limited), retried at the
  // next scan. Never taken to mean that the files are gone.
  void fs_error(std::string_view what, const std::string& path, const std::string& error) {
    fs_errors_metric_->fetch_add(1, std::memory_order_relaxed);
    uint64_t suppressed = 0;
    if (open_limit_.allow(&suppressed)) {
      log::warn(component(), "cannot " + std::string(what) + "; retrying at the next scan",
                log::kv("input", ctx_->name()) + log::kv("path", path) + log::kv("error", error) +
                    log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
  }

  void select(Container& c) {
    std::string why;
    if (!c.has_meta && (!filter_.include_names.empty() || !filter_.include_images.empty() ||
                        !filter_.include_labels.empty())) {
      why = "no metadata yet";
    } else {
      why = filter_.reject_reason(c.meta);
    }
    bool was = c.selected;
    c.selected = why.empty();
    if (!c.selected && why != c.reject_reason) {
      log::info(component(), "container not read",
                log::kv("input", ctx_->name()) + log::kv("container", c.key) +
                    log::kv("name", c.meta.name) + log::kv("reason", why));
    }
    c.reject_reason = why;
    if (was && !c.selected) {
      // Excluded now: stop reading, keep the checkpoint in case it is selected again.
      for (auto& [key, t] : tails_) {
        if (t->container == c.key) {
          t->gone = true;
          t->forget = false;
          t->last_growth = TimePoint{};
          by_path_.erase(t->path);
        }
      }
    }
  }

  static std::string key_of(const struct stat& st) {
    return std::to_string(static_cast<uint64_t>(st.st_dev)) + ":" +
           std::to_string(static_cast<uint64_t>(st.st_ino));
  }
  std::string full_key(const struct stat& st) const {
    return std::string(component()) + ":" + key_of(st);
  }

  // A rotated sibling (<name>.1, kubelet's <name>.<timestamp>). With a checkpoint it is one we
  // were reading (resume; usually at its end). Without one it was created and rotated while we
  // were not looking (down, or faster than a scan): read it from the start. Except a copy of
  // the active file (copytruncate before we noticed the truncation): truncated() reads that
  // from the right offset.
  void resume_rotated(Container& c, const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    std::string key = full_key(st);
    present_keys_.insert(key);
    if (auto r = retired_.find(key); r != retired_.end() && !r->second.same_file(st)) {
      // Not the file we released: Docker deleted it and a newer file got its inode, then was
      // rotated before a scan saw it as the active file. Never read: read it like any rotated
      // file found without a checkpoint (open_tail sees the checkpoint's fingerprint differ).
      retired_missed_.erase(key);
      retired_.erase(r);
    }
    if (auto it = tails_.find(key); it != tails_.end() && it->second->parked) {
      it->second->path = path;   // reopened under the name it has now
      it->second->missed_scans = 0;
    }
    if (tails_.count(key) || closing_keys_.count(key) || retired_.count(key)) return;
    std::optional<uint64_t> start;
    if (!ctx_->saved_position(key)) {
      if (copy_of_active(c, path)) return;
      if (!scanned_once_ && o_.read_from == "tail") start = static_cast<uint64_t>(st.st_size);
    }
    Tail* t = open_tail(path, c.key, false, start);
    by_path_.erase(path);
    if (t != nullptr && !t->gone) mark_gone(*t);
  }

  // True when `path` starts like an active file of the container (or is still empty, as a copy
  // logrotate has just created): not to be read from the start.
  bool copy_of_active(const Container& c, const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return true;   // gone already; nothing to read
    struct stat st{};
    std::string head;
    bool ok = ::fstat(fd, &st) == 0 &&
              read_prefix(fd, static_cast<std::size_t>(std::min<uint64_t>(
                                  kFingerprintBytes, static_cast<uint64_t>(st.st_size))),
                          &head);
    ::close(fd);
    if (!ok || head.empty()) return true;   // nothing to read yet; decide on a later scan
    for (const auto& [key, t] : tails_) {
      if (t->gone || t->container != c.key || t->prefix.empty()) continue;
      std::size_t n = std::min(head.size(), t->prefix.size());
      if (head.compare(0, n, t->prefix, 0, n) == 0) return true;
    }
    return false;
  }

  // Opens `path` and starts tailing it. `start` overrides the checkpoint (copytruncate copy).
  Tail* open_tail(const std::string& path, const std::string& container_key, bool initial,
                  std::optional<uint64_t> start) {
    if (!make_room()) return nullptr;   // over max_open_files: the next scan tries again
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      // EMFILE/ENFILE included: the path stays unopened and the next scan tries again.
      if (errno != ENOENT) fs_error("open a log file", path, std::strerror(errno));
      return nullptr;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) {   // after open: the path may have been renamed in between
      fs_error("fstat a log file", path, std::strerror(errno));
      ::close(fd);
      return nullptr;
    }
    std::string key = full_key(st);
    if (auto it = tails_.find(key); it != tails_.end()) {
      ::close(fd);
      if (!it->second->gone) by_path_[path] = key;
      return it->second.get();
    }
    if (closing_keys_.count(key)) {
      ::close(fd);
      return nullptr;
    }
    auto t = std::make_unique<Tail>(dopts_, &json_, &stats_, malformed_metric_, &log_limit_);
    t->path = path;
    t->container = container_key;
    t->key = key;
    t->fd = fd;
    t->opened_round = round_;
    t->last_growth = SteadyClock::now();
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    const char* why = "new file";
    if (start) {
      offset = *start;
      why = "copy of a truncated file";
    } else if (auto saved = ctx_->saved_position(key)) {
      std::size_t len = 0;
      uint64_t hash = 0, now_hash = 0;
      if (parse_fingerprint(saved->text, &len, &hash) && saved->offset <= size &&
          hash_prefix(fd, len, &now_hash) && now_hash == hash) {
        offset = saved->offset;
        why = "checkpoint";
      } else {
        why = "checkpoint of another file (inode reused or truncated)";
      }
    } else if (initial && o_.read_from == "tail") {
      offset = line_start_before(fd, size);
      why = "read_from tail";
    }
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
      fs_error("seek in a log file", path, std::strerror(errno));
      return nullptr;   // t closes fd
    }
    t->read_off = offset;
    t->lag_labels = "input=";
    json::append_string(t->lag_labels, ctx_->name());
    t->lag_labels += ",file=";
    json::append_string(t->lag_labels, t->path);
    // The stream key keeps the series unique: after a rotation the old file (same path) is still
    // drained while the new one is followed, and releasing one must not remove the other.
    t->lag_labels += ",stream=";
    json::append_string(t->lag_labels, t->key);
    t->lag = &Metrics::global().gauge(Tail::kLagMetric, t->lag_labels,
                                      "Bytes of a followed file not read yet");
    t->update_lag();
    t->dec.reset(offset);
    update_fingerprint(*t);
    const Container* c = nullptr;
    if (auto it = containers_.find(container_key); it != containers_.end()) c = &it->second;
    ContainerMeta empty;
    t->source = docker::make_source(ctx_->name(), key, c ? c->meta : empty, t->path);
    t->stream = ctx_->open_stream(t->source);
    t->emitted = offset;
    log::info(component(), "tailing file",
              log::kv("input", ctx_->name()) + log::kv("path", path) +
                  log::kv("offset", static_cast<int64_t>(offset)) + log::kv("from", why));
    Tail* raw = t.get();
    by_path_[path] = key;
    tails_.emplace(key, std::move(t));
    return raw;
  }

  // The offset just after the last '\n' at or before `size`, so tailing starts on a line.
  static uint64_t line_start_before(int fd, uint64_t size) {
    char b[65536];
    uint64_t end = size;
    while (end > 0) {
      std::size_t n = static_cast<std::size_t>(std::min<uint64_t>(sizeof b, end));
      ssize_t r = ::pread(fd, b, n, static_cast<off_t>(end - n));
      if (r != static_cast<ssize_t>(n)) return size;
      for (std::size_t i = n; i > 0; --i) {
        if (b[i - 1] == '\n') return end - n + i;
      }
      end -= n;
    }
    return 0;
  }

  void update_fingerprint(Tail& t) {
    if (t.fp_len >= kFingerprintBytes && !t.fp_text.empty()) return;
    struct stat st{};
    if (::fstat(t.fd, &st) != 0) return;
    std::size_t len = static_cast<std::size_t>(
        std::min<uint64_t>(kFingerprintBytes, static_cast<uint64_t>(st.st_size)));
    if (len == t.fp_len && !t.fp_text.empty()) return;
    std::string prefix;
    if (!read_prefix(t.fd, len, &prefix)) return;
    t.fp_len = len;
    t.fp_hash = fnv1a(prefix.data(), len);
    t.fp_text = fingerprint_text(len, t.fp_hash);
    t.prefix = std::move(prefix);
  }

  // A truncated file that grew back past our offset before we noticed: its first bytes differ.
  void verify_fingerprint(Tail& t) {
    if (t.fp_len == 0) return;
    uint64_t h = 0;
    if (hash_prefix(t.fd, t.fp_len, &h) && h == t.fp_hash) return;
    truncated(t, "file content replaced");
  }

  void mark_gone(Tail& t) {
    if (t.gone) return;
    t.gone = true;
    t.last_growth = SteadyClock::now();
    if (t.parked) t.at_eof = false;   // not read to its end until it has its descriptor back
    log::info(component(), "file rotated or removed; reading it to its end",
              log::kv("input", ctx_->name()) + log::kv("path", t.path) +
                  log::kv("offset", static_cast<int64_t>(t.read_off)));
  }

  // copytruncate: restart at 0. What was written between our last read and the copy is in
  // the copy (<path>.1) if logrotate made one; read it from our offset.
  void truncated(Tail& t, const char* why) {
    log::info(component(), "file truncated; reading from the start",
              log::kv("input", ctx_->name()) + log::kv("path", t.path) + log::kv("reason", why) +
                  log::kv("offset", static_cast<int64_t>(t.read_off)));
    // Lines consumed but held in a merge are lost with the old content; emit them.
    BatchPtr batch = std::make_unique<Batch>(t.source, 16);
    t.dec.flush(*batch, SteadyClock::now(), true);
    const uint64_t old_off = t.dec.safe_offset();
    const std::size_t old_fp_len = t.fp_len;
    const uint64_t old_fp_hash = t.fp_hash;
    std::string copy = t.path + ".1";
    t.carry.clear();
    t.read_off = 0;
    ::lseek(t.fd, 0, SEEK_SET);
    t.dec.reset(0);
    t.fp_len = 0;
    t.fp_text.clear();
    update_fingerprint(t);
    emit(t, std::move(batch), /*force=*/true);
    if (old_fp_len == 0 || t.gone) return;
    int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    struct stat st{};
    uint64_t h = 0;
    bool match = ::fstat(fd, &st) == 0 && hash_prefix(fd, old_fp_len, &h) && h == old_fp_hash;
    ::close(fd);
    if (!match || tails_.count(full_key(st)) || retired_.count(full_key(st))) return;
    // Opened even when we had read it all: its checkpoint then marks it as seen.
    Tail* c = open_tail(copy, t.container, false,
                        std::min<uint64_t>(old_off, static_cast<uint64_t>(st.st_size)));
    if (c != nullptr) {
      by_path_.erase(copy);
      mark_gone(*c);
    }
  }

  // ---- reading ----

  bool read_round() {
    ++round_;
    bool progress = false;
    for (auto& [key, t] : tails_) {
      if (ctx_->stopping() || aborted_) break;
      if (t->parked) continue;
      reading_ = t.get();
      if (read_file(*t)) progress = true;
    }
    reading_ = nullptr;
    return progress;
  }

  // ---- the descriptor budget (max_open_files) ----

  static std::size_t default_max_open_files() {
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
    return std::max<std::size_t>(8, static_cast<std::size_t>(rl.rlim_cur / 2));
  }

  std::size_t open_files() const {
    std::size_t n = 0;
    for (const auto& [key, t] : tails_) n += t->fd >= 0 ? 1 : 0;
    return n;
  }

  // Room for one more descriptor: parks the open file whose turn began longest ago (one at
  // its end first). False when every open file still waits for its first read since opened.
  bool make_room() {
    if (open_files() < max_open_) return true;
    Tail* victim = nullptr;
    for (auto& [key, t] : tails_) {
      Tail& c = *t;
      if (c.fd < 0 || c.gone || c.opened_round >= round_ || &c == reading_) continue;
      if (victim == nullptr || (c.at_eof && !victim->at_eof) ||
          (c.at_eof == victim->at_eof && c.opened_round < victim->opened_round)) {
        victim = &c;
      }
    }
    if (victim == nullptr) return false;
    ::close(victim->fd);
    victim->fd = -1;
    victim->parked = true;
    return true;
  }

  // Parked files that grew, or that were rotated and must be read to their end, get a
  // descriptor back in turn.
  void unpark_round() {
    for (auto& [key, t] : tails_) {
      if (ctx_->stopping() || aborted_) return;
      if (!t->parked || !t->forget || (t->gone && t->at_eof)) continue;
      struct stat st{};
      // Moved or replaced: the scan finds a rotated file under its new name (resume_rotated)
      // or, missing from two scans, declares it deleted (forget_deleted_parked).
      if (::stat(t->path.c_str(), &st) != 0 || full_key(st) != t->key) continue;
      if (!t->gone && static_cast<uint64_t>(st.st_size) == t->read_off) continue;
      t->at_eof = false;   // something left to read: not idle
      if (!make_room()) return;
      reopen(*t);
    }
  }

  void reopen(Tail& t) {
    int fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno != ENOENT) {
      fs_error("reopen a log file", t.path, std::strerror(errno));   // EMFILE: next round
      return;
    }
    struct stat st{};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && full_key(st) == t.key &&
        ::lseek(fd, static_cast<off_t>(t.read_off), SEEK_SET) >= 0) {
      t.fd = fd;
      t.parked = false;
      t.opened_round = round_;
      verify_fingerprint(t);
      return;
    }
    if (fd >= 0) ::close(fd);   // moved in between: the next scan finds where
  }

  // A parked file the path no longer names and that two complete scans in a row did not find
  // under a rotated name was deleted before it was read to its end: release it.
  void forget_deleted_parked() {
    for (auto& [key, t] : tails_) {
      if (!t->parked || !t->gone || t->at_eof || present_keys_.count(key)) {
        t->missed_scans = 0;
        continue;
      }
      if (++t->missed_scans < 2) continue;
      log::warn(component(), "rotated file deleted before it was read to its end",
                log::kv("input", ctx_->name()) + log::kv("path", t->path) +
                    log::kv("offset", static_cast<int64_t>(t->read_off)));
      t->at_eof = true;
      t->last_growth = TimePoint{};
    }
  }

  // Reads up to round_bytes from the file; true if it got data.
  bool read_file(Tail& t) {
    uint64_t budget = o_.round_bytes.bytes;
    bool got = false;
    const std::size_t chunk = o_.read_size.bytes;
    while (budget > 0 && !ctx_->stopping() && !aborted_) {
      const std::size_t carry = t.carry.size();
      const std::size_t need = carry + chunk + simdjson::SIMDJSON_PADDING;
      if (buf_.size() < need) buf_.resize(need);
      buf_mem_.set(buf_.capacity());
      if (carry) std::memcpy(buf_.data(), t.carry.data(), carry);
      ssize_t n = ::read(t.fd, buf_.data() + carry, chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        uint64_t suppressed = 0;
        if (open_limit_.allow(&suppressed)) {
          log::warn(component(), "read failed",
                    log::kv("input", ctx_->name()) + log::kv("path", t.path) +
                        log::kv("error", std::strerror(errno)));
        }
        break;
      }
      if (n == 0) {
        t.at_eof = true;
        struct stat st{};
        if (!t.gone && ::fstat(t.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) < t.read_off) {
          truncated(t, "size shrank");
          continue;
        }
        break;
      }
      got = true;
      t.at_eof = false;
      t.last_growth = SteadyClock::now();
      t.read_off += static_cast<uint64_t>(n);
      budget -= std::min<uint64_t>(budget, static_cast<uint64_t>(n));
      const std::size_t total = carry + static_cast<std::size_t>(n);
      BatchPtr batch = std::make_unique<Batch>(t.source, total / 128 + 16, total + 4096);
      std::size_t used = t.dec.consume(buf_.data(), total, buf_.size(), t.read_off - total,
                                       *batch, t.last_growth);
      t.carry.assign(buf_.data() + used, total - used);
      if (t.carry.empty() && t.carry.capacity() > 4096) std::string().swap(t.carry);
      t.carry_mem.set(t.carry.capacity());
      if (t.fp_len < kFingerprintBytes) update_fingerprint(t);
      if (!emit(t, std::move(batch), false)) break;
    }
    return got;
  }

  bool emit(Tail& t, BatchPtr batch, bool force) {
    const uint64_t pos = t.dec.safe_offset();
    if (batch->size() == 0 && pos == t.emitted && !force) return true;
    t.emitted = pos;
    if (!t.stream->emit(std::move(batch), Position{pos, t.fp_text})) {
      aborted_ = true;
      return false;
    }
    return true;
  }

  void housekeeping(TimePoint now) {
    if (stats_.truncated != truncated_published_) {
      truncated_metric_->fetch_add(stats_.truncated - truncated_published_,
                                   std::memory_order_relaxed);
      truncated_published_ = stats_.truncated;
    }
    std::vector<std::string> release;
    int64_t parked = 0;
    for (auto& [key, t] : tails_) {
      parked += t->parked ? 1 : 0;
      if (auto f = t->dec.next_flush(); f && *f <= now) {
        BatchPtr batch = std::make_unique<Batch>(t->source, 4);
        t->dec.flush(*batch, now, false);
        emit(*t, std::move(batch), false);
      }
      if (auto f = t->stream->next_flush(); f && *f <= now) t->stream->flush(false);
      if (t->gone && (!t->forget || (t->at_eof && now - t->last_growth >= o_.rotate_wait))) {
        release.push_back(key);
      }
    }
    parked_metric_->store(parked, std::memory_order_relaxed);
    for (const std::string& key : release) {
      auto node = tails_.extract(key);
      Tail& t = *node.mapped();
      t.retire = t.forget && ::fstat(t.fd, &t.released) == 0 && t.released.st_nlink > 0;
      if (t.forget) {
        // The writer is gone: a last line without '\n' will never be finished.
        BatchPtr batch = std::make_unique<Batch>(t.source, 4);
        if (!t.carry.empty()) {
          std::string last = t.carry + "\n";
          last.resize(last.size() + simdjson::SIMDJSON_PADDING, ' ');
          t.dec.consume(last.data(), t.carry.size() + 1, last.size(), t.read_off - t.carry.size(),
                        *batch, now);
          t.carry.clear();
        }
        t.dec.flush(*batch, now, true);
        emit(t, std::move(batch), true);
      }
      t.stream->flush(true);
      if (t.fd >= 0) {
        ::close(t.fd);   // nothing more to read: the descriptor goes back to the budget
        t.fd = -1;
      }
      log::info(component(), "file released",
                log::kv("input", ctx_->name()) + log::kv("path", t.path) +
                    log::kv("offset", static_cast<int64_t>(t.read_off)));
      closing_keys_.insert(key);
      closing_.push_back(std::move(node.mapped()));
    }
    // A checkpoint is dropped only once everything before it settled, or a late commit would
    // bring it back.
    for (auto it = closing_.begin(); it != closing_.end();) {
      if ((*it)->stream->unsettled() != 0) {
        ++it;
        continue;
      }
      if ((*it)->retire) {
        retired_[(*it)->key] = Retired{(*it)->released.st_size, (*it)->released.st_mtim};
      } else if ((*it)->forget) {
        ctx_->forget_position((*it)->key);
      }
      closing_keys_.erase((*it)->key);
      it = closing_.erase(it);
    }
  }

  const ContainerLogOptions o_;
  const LogFormat format_;
  const std::string root_;
  docker::DecoderOptions dopts_;
  ContainerFilter filter_;
  InputContext* ctx_ = nullptr;
  std::thread thread_;
  int inotify_fd_ = -1;
  std::map<std::string, int> watched_;
  bool rescan_ = true;
  bool scanned_once_ = false;
  bool root_missing_logged_ = false;
  bool aborted_ = false;
  std::map<std::string, Container> containers_;
  std::map<std::string, std::unique_ptr<Tail>> tails_;   // by key
  MemoryCharge buf_mem_{MemoryPart::kReadBuffers};
  std::map<std::string, std::string> by_path_;           // active path -> key
  std::deque<std::unique_ptr<Tail>> closing_;
  std::set<std::string> closing_keys_;
  std::map<std::string, Retired> retired_;       // released rotated files still on disk
  std::set<std::string> retired_missed_;         // retired files the last scan did not see
  std::set<std::string> present_keys_;           // files seen by the current scan
  std::vector<std::string> unlisted_dirs_;       // "<dir>/" the current scan could not list
  std::size_t max_open_ = 0;                     // max_open_files, resolved at start
  uint64_t round_ = 0;                           // read rounds so far
  Tail* reading_ = nullptr;                      // the file read_round is reading: not parked
  TimePoint next_unpark_{};
  std::atomic<int64_t>* parked_metric_ = nullptr;
  std::vector<char> buf_;
  docker::DockerLineDecoder json_;
  docker::DecoderStats stats_;
  std::atomic<uint64_t>* malformed_metric_ = nullptr;
  std::atomic<uint64_t>* truncated_metric_ = nullptr;
  std::atomic<uint64_t>* metadata_skipped_metric_ = nullptr;
  std::atomic<uint64_t>* labels_dropped_metric_ = nullptr;
  std::atomic<uint64_t>* fs_errors_metric_ = nullptr;
  docker::LabelLimits label_limits_;
  uint64_t truncated_published_ = 0;
  log::RateLimit log_limit_{5, std::chrono::seconds(10)};
  log::RateLimit meta_limit_{5, std::chrono::seconds(60)};
  log::RateLimit open_limit_{5, std::chrono::seconds(60)};
};

class DockerInput final : public Input {
 public:
  explicit DockerInput(const DockerOptions& o) : impl_(o, LogFormat::kDocker, o.docker_root) {}
  Status start(InputContext& ctx) override { return impl_.start(ctx); }
  void stop() override { impl_.stop(); }

 private:
  ContainerLogInput impl_;
};

class CriInput final : public Input {
 public:
  explicit CriInput(const CriOptions& o) : impl_(o, LogFormat::kCri, o.pods_root) {}
  Status start(InputContext& ctx) override { return impl_.start(ctx); }
  void stop() override { impl_.stop(); }

 private:
  ContainerLogInput impl_;
};

}  // namespace

const PluginInfo& docker_input() {
  static const PluginInfo info{
      PluginKind::kInput, "docker",
      "Tails Docker json-file container logs with container metadata, rotation-safe.",
      &schema_of<DockerOptions>, &bind_input<DockerOptions, DockerInput>};
  return info;
}

const PluginInfo& cri_input() {
  static const PluginInfo info{
      PluginKind::kInput, "cri",
      "Tails Kubernetes CRI (containerd/CRI-O) pod logs under /var/log/pods.",
      &schema_of<CriOptions>, &bind_input<CriOptions, CriInput>};
  return info;
}

}  // namespace logship::plugins
