#include "inputs/tail/tailer.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "daemon/core/json_writer.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/runtime/metrics.h"
#include "inputs/tail/fingerprint.h"
#include "inputs/tail/gz_reader.h"

namespace logship::tail {

struct Tailer::Tail {
  ~Tail() {
    if (fd >= 0) ::close(fd);
    unpublish_lag();
  }
  // A file just opened as `fd`: it owns the descriptor from here on.
  static std::unique_ptr<Tail> opened(const std::string& path, const std::string& owner,
                                      const std::string& key, int fd, uint64_t round) {
    auto t = std::make_unique<Tail>();
    t->path = path;
    t->set_owner(owner);
    t->key = key;
    t->fd = fd;
    t->opened_round = round;
    t->last_growth = SteadyClock::now();
    return t;
  }
  static constexpr std::string_view kLagMetric = "logship_input_file_lag_bytes";
  // The series of a file's lag exists while the file is open: a file closed while idle costs
  // no series (10,000 quiet containers, 10,000 label strings and map nodes less).
  std::string lag_labels(const std::string& input) const {
    std::string labels = "input=";
    json::append_string(labels, input);
    labels += ",file=";
    json::append_string(labels, path);
    // The stream key keeps the series unique: after a rotation the old file (same path) is
    // still drained while the new one is followed, and releasing one must not remove the other.
    labels += ",stream=";
    json::append_string(labels, key);
    return labels;
  }
  static constexpr std::string_view kReadTimeMetric = "logship_input_file_read_timestamp_seconds";
  void publish_lag(const std::string& input) {
    if (lag != nullptr) return;
    lag_input = &input;
    const std::string labels = lag_labels(input);
    lag = &Metrics::global().gauge(kLagMetric, labels, "Bytes of a followed file not read yet");
    read_time = &Metrics::global().gauge(
        kReadTimeMetric, labels,
        "When the newest record read from a followed file was written (its timestamp): while "
        "its lag bytes are above 0, time() minus this is how far behind its reader is");
  }
  void unpublish_lag() {
    if (lag == nullptr) return;
    const std::string labels = lag_labels(*lag_input);
    Metrics::global().remove(kLagMetric, labels);
    Metrics::global().remove(kReadTimeMetric, labels);
    lag = nullptr;
    read_time = nullptr;
  }
  // The newest record of a batch just read: how far behind the reader is, in time.
  void note_read(const Batch& batch) {
    if (read_time == nullptr || batch.size() == 0) return;
    read_time->store(batch.events().back().time_ns / 1'000'000'000, std::memory_order_relaxed);
  }
  // Bytes of the file not read yet, refreshed at every scan.
  void update_lag() {
    struct stat st{};
    if (lag != nullptr && fd >= 0 && gz == nullptr && ::fstat(fd, &st) == 0) {
      saw_size(st);
      lag->store(std::max<int64_t>(0, static_cast<int64_t>(st.st_size) - static_cast<int64_t>(read_off)),
                 std::memory_order_relaxed);
    }
  }
  // The largest size the file was seen with: what is lost if it goes before being read.
  void saw_size(const struct stat& st) {
    size_seen = std::max(size_seen, static_cast<uint64_t>(st.st_size));
  }
  std::atomic<int64_t>* lag = nullptr;
  std::atomic<int64_t>* read_time = nullptr;   // kReadTimeMetric, published with lag
  const std::string* lag_input = nullptr;   // the input's name, for the series' labels
  std::string path;
  // What discovery named it with (a container, a glob). Most often part of its path (a
  // container's id is its directory's name): then kept as a range of the path, not a copy.
  std::string_view owner() const {
    return owner_own ? std::string_view(*owner_own)
                     : std::string_view(path).substr(owner_at, owner_len);
  }
  void set_owner(std::string_view o) {
    const std::size_t at = path.rfind(o);
    if (at != std::string::npos && o.size() <= UINT16_MAX && at <= UINT16_MAX) {
      owner_own.reset();
      owner_at = static_cast<uint16_t>(at);
      owner_len = static_cast<uint16_t>(o.size());
    } else {
      owner_own = std::make_unique<std::string>(o);
    }
  }
  // Renamed: the owner stays what it was.
  void set_path(const std::string& p) {
    const std::string o(owner());
    path = p;
    set_owner(o);
  }
  std::unique_ptr<std::string> owner_own;
  std::string key;
  uint64_t read_off = 0;
  uint64_t size_seen = 0;
  std::string carry;
  MemoryCharge carry_mem{MemoryPart::kReadBuffers};   // the incomplete last line, in the budget
  // Null while the file sleeps (closed while idle, nothing held, a stream without state of
  // its own): 10,000 quiet containers keep no decoder, stream or source. wake() makes them.
  std::unique_ptr<Decoder> dec;
  std::unique_ptr<StreamHandle> stream;
  std::shared_ptr<const SourceInfo> source;
  std::size_t fp_len = 0;
  uint64_t fp_hash = 0;
  // A compressed generation's checkpoint is marked "gz:" (its offset counts uncompressed bytes).
  std::string fp_text() const {
    if (!fingerprinted) return "";
    return gz != nullptr ? "gz:" + fingerprint_text(fp_len, fp_hash)
                         : fingerprint_text(fp_len, fp_hash);
  }
  uint64_t emitted = UINT64_MAX;
  uint64_t opened_round = 0;  // read round in which the descriptor was (re)opened
  // Size and mtime when the fingerprint was last checked: unchanged, the first bytes are too.
  off_t fp_checked_size = -1;
  struct timespec fp_checked_mtime{};
  TimePoint last_growth{};
  // The small ones together (no padding between them): 10,000 files.
  int fd = -1;
  int missed_scans = 0;       // parked and gone: complete scans that did not find it
  uint16_t owner_at = 0, owner_len = 0;   // owner() within the path
  uint16_t deferred_rounds = 0;   // read rounds its first read waited for max_awake
  bool needs_head = false;    // a decoder made while closed: its head() waits for a descriptor
  bool fingerprinted = false;
  bool gone = false;          // the path no longer names this file: drain, then release
  // Closed to stay within max_open_files; everything else (offset, partial lines) is kept and
  // the file is reopened by path, checked to be the same inode, when it grows.
  bool parked = false;
  bool at_eof = false;
  // In ready_: may have data (new, reopened, not read to its end, draining, or an event).
  bool queued = false;
  // In tending_: housekeeping has something to look at (read lately, held back, draining).
  bool tended = false;
  bool forget = true;         // drop the checkpoint when released (excluded: kept)
  bool retire = false;        // released but still on disk (rotated): checkpoint kept
  // A compressed generation: its bytes come from here, uncompressed (read_off counts those).
  // Apart: 10,000 plain files do not carry its fields.
  struct Compressed {
    std::unique_ptr<GzReader> reader;
    uint64_t size_hint = 0;   // the plain file's size as last seen, if known
    std::string supersedes;   // the plain file's checkpoint, dropped once this one settled
    std::string head;         // its first uncompressed bytes
  };
  std::unique_ptr<Compressed> gz;
  const std::string& supersedes() const {
    static const std::string none;
    return gz != nullptr ? gz->supersedes : none;
  }
};

bool Tailer::Retired::same_file(const struct stat& st) const {
  return st.st_size == size && st.st_mtim.tv_sec == mtime.tv_sec &&
         st.st_mtim.tv_nsec == mtime.tv_nsec;
}

namespace {

std::size_t default_max_open_files() {
  struct rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return std::max<std::size_t>(8, static_cast<std::size_t>(rl.rlim_cur / 2));
}

}  // namespace

Tailer::Tailer(const TailerOptions& o, InputContext& ctx, TailerClient& client)
    : o_(o),
      ctx_(ctx),
      client_(client),
      log_(PluginContext{PluginKind::kInput, ctx.name(), o.kind}) {
  const ComponentMetrics metrics("input", ctx.name());
  parked_metric_ = &metrics.gauge(
      "logship_input_files_parked",
      "Followed files closed for now: idle for close_idle, or to stay within max_open_files "
      "(reopened when they grow)");
  complete_scans_metric_ = &metrics.counter(
      "logship_input_scans_total",
      "Directory scans: complete (every directory; at rescan_interval, on an inotify overflow, "
      "while files wait for a descriptor) or partial (the directories with inotify events)",
      "scope", "complete");
  partial_scans_metric_ = &metrics.counter(
      "logship_input_scans_total",
      "Directory scans: complete (every directory; at rescan_interval, on an inotify overflow, "
      "while files wait for a descriptor) or partial (the directories with inotify events)",
      "scope", "partial");
  idle_closed_metric_ = &metrics.counter(
      "logship_input_files_idle_closed_total",
      "Followed files closed after close_idle without new data (reopened when they grow)");
  lost_bytes_metric_ = &metrics.counter(
      "logship_input_lost_bytes_total",
      "Bytes of followed files deleted before they were read (a rotated generation closed for "
      "max_open_files and deleted before its turn), as far as their size was seen, and the "
      "unread end of a compressed generation that could not be read");
  compressed_read_metric_ = &metrics.counter(
      "logship_input_compressed_generations_total",
      "Compressed generations (.gz) read from the checkpoint of the file they were "
      "compressed from");
  compressed_failed_metric_ = &metrics.counter(
      "logship_input_compressed_failed_total",
      "Compressed generations that could not be read to their end: corrupt, cut short, or over "
      "max_decompressed_size (the bytes known to be lost are in logship_input_lost_bytes_total)");
  fs_errors_metric_ = &metrics.counter(
      "logship_input_fs_errors_total",
      "Directory listings and file opens that failed (EMFILE, EACCES...), retried at the next "
      "scan");
  max_open_ = o_.max_open_files > 0 ? o_.max_open_files : default_max_open_files();
  buf_.resize(o_.read_size + o_.read_padding + 4096);
}

Tailer::~Tailer() = default;

std::string Tailer::key_of(const struct stat& st) const {
  return o_.kind + ":" + std::to_string(static_cast<uint64_t>(st.st_dev)) + ":" +
         std::to_string(static_cast<uint64_t>(st.st_ino));
}

// ---- scan protocol ----

void Tailer::begin_scan(const std::set<std::string>* dirs) {
  scanned_dirs_.clear();
  partial_ = dirs != nullptr;
  (partial_ ? partial_scans_metric_ : complete_scans_metric_)->fetch_add(1, std::memory_order_relaxed);
  if (partial_) {
    for (const std::string& d : *dirs) scanned_dirs_.push_back(d + "/");
  } else {
    for (auto& [key, t] : tails_) t->update_lag();
    for (auto& t : closing_) t->update_lag();
  }
  forget_scan();
  unlisted_dirs_.clear();
  over_budget_ = false;
}

void Tailer::also_scan_dir(const std::string& dir) {
  if (partial_) scanned_dirs_.push_back(dir + "/");
}

void Tailer::active(const std::string& path, const std::string& owner) {
  auto [it, added] = present_paths_.emplace(std::string_view(path), std::string_view(owner));
  if (!added) it->second = owner;
  note_present(path);
}

void Tailer::unlisted_dir(const std::string& dir) { unlisted_dirs_.insert(dir + "/"); }

// Each ancestor of the path is looked up: a scan of a few directories names the 10,000 others.
bool Tailer::in_unlisted_dir(const std::string& path) const {
  if (unlisted_dirs_.empty()) return false;
  const std::string_view p(path);
  for (std::size_t slash = p.find('/'); slash != std::string_view::npos;
       slash = p.find('/', slash + 1)) {
    if (unlisted_dirs_.count(p.substr(0, slash + 1))) return true;
  }
  return false;
}

void Tailer::note_present(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    note_file(key_of(st), path);
  }
}

// Whether the followed file at by_path_'s `it` is still at its path: if not, it is drained to
// its end. A path in a directory this scan could not list is not known to be gone.
Tailer::PathMap::iterator Tailer::judge_path(PathMap::iterator it) {
  Tail& t = *it->second;
  bool same = false;
  if (in_unlisted_dir(t.path)) {
    same = true;
  } else if (present_paths_.count(t.path)) {
    struct stat st{};
    if (::stat(t.path.c_str(), &st) == 0) {
      same = key_of(st) == t.key;
    } else {
      same = errno != ENOENT && errno != ENOTDIR;   // ENOMEM, EACCES...: not known gone
    }
  }
  if (same) return std::next(it);
  auto next = by_path_.erase(it);
  mark_gone(t);
  return next;
}

// `t` is the file at `path` now: a parked file found under another name, a file moved to
// another followed name. Its lag series (if any) follows the name.
void Tailer::follow_path(Tail& t, const std::string& path) {
  if (t.path != path) {
    unfollow_path(t);
    rename(t, path);
  }
  // A key views its Tail's path: an entry of another Tail at this path goes, key and all.
  if (auto it = by_path_.find(t.path); it != by_path_.end()) by_path_.erase(it);
  by_path_.emplace(t.path, &t);
}

// Its lag series (if any) follows the name.
void Tailer::rename(Tail& t, const std::string& path) {
  const bool published = t.lag != nullptr;
  t.unpublish_lag();
  t.set_path(path);
  if (published) t.publish_lag(ctx_.name());
}

void Tailer::unfollow_path(Tail& t) {
  if (auto it = by_path_.find(t.path); it != by_path_.end() && it->second == &t) {
    by_path_.erase(it);
  }
}

void Tailer::end_scan() {
  if (partial_) {
    // Only the files directly in the scanned directories: a range of the sorted paths each.
    for (const std::string& d : scanned_dirs_) {
      for (auto it = by_path_.lower_bound(d);
           it != by_path_.end() && it->first.compare(0, d.size(), d) == 0;) {
        if (it->first.find('/', d.size()) != std::string::npos) {
          ++it;   // deeper: another directory's
        } else {
          it = judge_path(it);
        }
      }
    }
  } else {
    for (auto it = by_path_.begin(); it != by_path_.end();) it = judge_path(it);
  }
  for (const auto& [path, owner] : present_paths_) {
    if (!by_path_.count(path)) {
      open_tail(std::string(path), std::string(owner), !scanned_once_, std::nullopt);
    }
  }
  publish_new_lags();
  // A complete scan is also the safety net of events (missed, lost, or none without inotify):
  // each file gets a fingerprint check (when its size or mtime changed) and a read, which
  // costs one read() and one fstat() at its end. A partial one (a few directories with
  // events) leaves the files of the others to their events.
  const bool complete = !partial_ && unlisted_dirs_.empty();
  if (complete) {
    for (auto& [key, t] : tails_) {
      if (!t->gone && !t->parked) verify_fingerprint(*t, false);
    }
    all_changed();
  }
  // Checkpoints of released rotated files are kept while the file exists, so a restart can
  // tell a rotated file it read (checkpoint) from one it never saw (none: read from head).
  // A scan can miss a file that is being renamed (Docker shifting <name>.1 to <name>.2 between
  // readdir and stat): forgetting its checkpoint then makes the next scan read the whole file
  // again. Only a file missing from two complete scans in a row is gone.
  for (auto it = retired_.begin(); it != retired_.end() && complete;) {
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
    ctx_.forget_position(it->first);
    it = retired_.erase(it);
  }
  if (complete) forget_deleted_parked();
  if (complete) std::erase_if(held_gz_, [&](const std::string& k) { return !present_keys_.count(k); });
  if (complete) expire_orphans();
  scanned_once_ = true;
  charge_files();   // before the first read: the buffers' share is known when reading starts
  // What this scan saw is not needed until the next one: 10,000 paths and keys, freed.
  forget_scan();
}

void Tailer::note_file(const std::string& key, const std::string& path) {
  present_keys_.emplace(std::string_view(key));
  auto [it, added] = present_files_.emplace(std::string_view(key), std::string_view(path));
  if (!added) it->second = path;
}

void Tailer::forget_scan() {
  present_paths_.clear();
  present_keys_.clear();
  present_files_.clear();
  scan_mem_.release();
}

void Tailer::all_gone() {
  PathMap followed;
  followed.swap(by_path_);
  for (auto& [path, t] : followed) mark_gone(*t);
  scanned_once_ = true;
}

// A rotated sibling (<name>.1, kubelet's <name>.<timestamp>). With a checkpoint it is one we
// were reading (resume; usually at its end). Without one it was created and rotated while we
// were not looking (down, or faster than a scan): read it from the start. Except a copy of
// the active file (copytruncate before we noticed the truncation): truncated() reads that
// from the right offset.
void Tailer::rotated(const std::string& path, const std::string& owner) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  std::string key = key_of(st);
  note_file(key, path);
  if (auto r = retired_.find(key); r != retired_.end() && !r->second.same_file(st)) {
    // Not the file we released: the writer deleted it and a newer file got its inode, then it
    // was rotated before a scan saw it as the active file. Never read: read it like any rotated
    // file found without a checkpoint (open_tail sees the checkpoint's fingerprint differ).
    retired_missed_.erase(key);
    retired_.erase(r);
  }
  if (auto it = tails_.find(key); it != tails_.end() && it->second->parked) {
    // Reopened under the name it has now, no longer the file at its old one.
    Tail& t = *it->second;
    if (!t.gone) {
      unfollow_path(t);
      mark_gone(t);
    }
    rename(t, path);
    t.missed_scans = 0;
    t.saw_size(st);
  }
  if (tails_.count(key) || closing_keys_.count(key) || retired_.count(key)) return;
  std::optional<uint64_t> start;
  // A checkpoint taken on another file (its inode reused: the copy logrotate's copytruncate
  // just made often gets the inode of the copy it deleted) says nothing about this one.
  if (!has_own_checkpoint(key, path)) {
    if (copy_of_active(owner, path)) return;
    if (auto at = copy_made_while_stopped(owner, path)) {
      start = *at;
    } else if (!scanned_once_ && o_.read_from_tail) {
      start = static_cast<uint64_t>(st.st_size);
    }
  }
  Tail* t = open_tail(path, owner, false, start);
  by_path_.erase(path);
  if (t != nullptr && !t->gone) mark_gone(*t);
}

namespace {

enum class Holds { kYes, kNo, kUnopened };

// Whether the file at `path` starts with the bytes fingerprinted in `pos` and reaches its
// offset: the file the checkpoint was taken on, or a copy of it.
Holds file_holds(const std::string& path, const Position& pos) {
  std::size_t len = 0;
  uint64_t hash = 0, now_hash = 0;
  if (!parse_fingerprint(pos.text, &len, &hash)) return Holds::kNo;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Holds::kUnopened;
  struct stat st{};
  const bool held = ::fstat(fd, &st) == 0 && pos.offset <= static_cast<uint64_t>(st.st_size) &&
                    hash_prefix(fd, len, &now_hash) && now_hash == hash;
  ::close(fd);
  return held ? Holds::kYes : Holds::kNo;
}

}  // namespace

// True when the checkpoint under `key` was taken on the file now at `path`: same first bytes,
// and not past its end.
bool Tailer::has_own_checkpoint(const std::string& key, const std::string& path) {
  auto saved = ctx_.saved_position(key);
  if (!saved) return false;
  // Gone or unreadable now: judged when opened.
  return file_holds(path, *saved) != Holds::kNo;
}

// True when `path` starts like an active file of the owner (or is still empty, as a copy
// logrotate has just created): not to be read from the start.
bool Tailer::copy_of_active(const std::string& owner, const std::string& path) {
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
    if (t->gone || t->owner() != owner) continue;
    if (starts_with(*t, head)) return true;
  }
  return false;
}

// The copy logrotate's copytruncate made while logship was stopped: an active file of the
// same owner (reported earlier in this scan: inputs report active files before generations) has
// a checkpoint with this file's first bytes but no longer holds them itself (truncated after
// the copy). The copy resumes where that checkpoint is, so what was read before the stop is
// not read again. Only the owner's files count: files elsewhere may start with the same bytes.
std::optional<uint64_t> Tailer::copy_made_while_stopped(const std::string& owner,
                                                        const std::string& path) {
  std::optional<uint64_t> found;
  for (const auto& [active_path, active_owner] : present_paths_) {
    if (std::string_view(active_owner) != owner || std::string_view(active_path) == path) continue;
    struct stat active{};
    if (::stat(active_path.c_str(), &active) != 0) continue;
    auto saved = ctx_.saved_position(key_of(active));
    std::size_t len = 0;
    uint64_t hash = 0;
    if (!saved || !parse_fingerprint(saved->text, &len, &hash) || len == 0) continue;
    if (file_holds(std::string(active_path), *saved) == Holds::kYes ||
        file_holds(path, *saved) != Holds::kYes) {
      continue;
    }
    if (found && *found != saved->offset) return std::nullopt;   // which one cannot be told
    found = saved->offset;
  }
  return found;
}

// Opens `path` and starts tailing it. `start` overrides the checkpoint (copytruncate copy).
Tailer::Tail* Tailer::open_tail(const std::string& path, const std::string& owner, bool initial,
                                std::optional<uint64_t> start) {
  if (!make_room()) {   // over max_open_files: the next scan tries again
    over_budget_ = true;
    return nullptr;
  }
  // O_NOFOLLOW: a symlink at a followed path is not a log file; discovery skips them too.
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
  std::string key = key_of(st);
  if (auto it = tails_.find(key); it != tails_.end()) {
    ::close(fd);
    if (!it->second->gone) follow_path(*it->second, path);
    return it->second.get();
  }
  if (closing_keys_.count(key)) {
    ::close(fd);
    return nullptr;
  }
  auto t = Tail::opened(path, owner, key, fd, round_);
  t->saw_size(st);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  uint64_t offset = 0;
  bool from_checkpoint = false;
  const char* why = "new file";
  if (start) {
    offset = *start;
    why = "copy of a truncated file";
  } else if (auto saved = ctx_.saved_position(key)) {
    std::size_t len = 0;
    uint64_t hash = 0, now_hash = 0;
    if (parse_fingerprint(saved->text, &len, &hash) && saved->offset <= size &&
        hash_prefix(fd, len, &now_hash) && now_hash == hash) {
      offset = saved->offset;
      from_checkpoint = true;
      why = "checkpoint";
    } else {
      why = "checkpoint of another file (inode reused or truncated)";
    }
  } else if (initial && o_.read_from_tail) {
    offset = line_start_before(fd, size);
    why = "read_from tail";
  }
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    fs_error("seek in a log file", path, std::strerror(errno));
    return nullptr;   // t closes fd
  }
  Tail* raw = t.get();
  register_tail(std::move(t), offset, offset > 0 && !from_checkpoint, why);
  return raw;
}

// Starts following an opened file from `offset`. `record_start`: the start is committed at
// once: with nothing more to read there would be no commit, and a restart would take the file
// for one never seen and read it from its start (the copy of a truncated file, read_from tail,
// a compressed generation).
void Tailer::register_tail(std::unique_ptr<Tail> t, uint64_t offset, bool record_start,
                           const char* why) {
  const std::string path = t->path;
  const std::string key = t->key;
  t->read_off = offset;
  unpublished_.push_back(t.get());
  update_fingerprint(*t);
  t->emitted = offset;
  log_.info("tailing file",
            log::kv("path", path) + log::kv("offset", static_cast<int64_t>(offset)) +
                log::kv("from", why));
  Tail* raw = t.get();
  open_[key] = raw;
  tails_.emplace(std::string_view(raw->key), std::move(t));   // the key views the Tail's own
  follow_path(*raw, path);
  queue(*raw);
  // Its decoder, stream and source are made when it is first read (read_round), not here: a
  // scan that finds 10,000 files first makes what stays for each of them, side by side, and
  // what goes once they are read comes after, so its memory can be given back as a whole.
  if (record_start) {
    tend(*raw);
    emit(*raw, std::make_unique<Batch>(raw->source, 1), true);
  }
}

// ---- owners ----

void Tailer::exclude_owner(const std::string& owner) {
  for (auto& [key, t] : tails_) {
    if (t->owner() == owner) {
      t->gone = true;
      t->forget = false;
      t->last_growth = TimePoint{};
      by_path_.erase(t->path);
      tend(*t);
    }
  }
}

void Tailer::refresh_sources(const std::string& owner) {
  // SourceInfo is shared and immutable: later batches of the owner's files take a new one.
  for (auto& [key, t] : tails_) {
    // A sleeping file takes its source when it wakes.
    if (t->owner() == owner && t->stream) t->source = client_.source_for(owner, t->key, t->path);
  }
}

// ---- identity ----

void Tailer::update_fingerprint(Tail& t) {
  if (t.gz != nullptr) return;   // set from the uncompressed bytes when it was opened
  if (t.fp_len >= kFingerprintBytes && t.fingerprinted) return;
  struct stat st{};
  if (::fstat(t.fd, &st) != 0) return;
  std::size_t len = static_cast<std::size_t>(
      std::min<uint64_t>(kFingerprintBytes, static_cast<uint64_t>(st.st_size)));
  if (len == t.fp_len && t.fingerprinted) return;
  uint64_t hash = 0;
  if (!hash_prefix(t.fd, len, &hash)) return;
  t.fp_len = len;
  t.fp_hash = hash;
  t.fingerprinted = true;
}

// What the decoder needs and a sleeping file does not keep: made when the file is opened,
// reopened or looked after again. The decoder starts at the offset read so far (a sleeping
// file holds nothing back).
void Tailer::wake(Tail& t) {
  if (t.stream) return;
  if (t.lag == nullptr && t.fd >= 0) {   // its series was left for its first read
    t.publish_lag(ctx_.name());
    t.update_lag();
  }
  const std::string owner(t.owner());
  t.source = client_.source_for(owner, t.key, t.path);
  t.stream = ctx_.open_stream(t.source);
  t.dec = client_.new_decoder_for(owner);
  t.dec->reset(t.read_off);
  t.needs_head = true;
  give_head(t);
}

// The file's first bytes, for what a byte-order mark says.
void Tailer::give_head(Tail& t) {
  if (!t.needs_head || t.fd < 0) return;
  if (t.gz != nullptr) {   // its descriptor holds compressed bytes
    t.dec->head(t.gz->head);
    t.needs_head = false;
    return;
  }
  std::string head;
  if (t.fp_len > 0 && !read_prefix(t.fd, t.fp_len, &head)) return;
  t.dec->head(head);
  t.needs_head = false;
}

// A closed file at its end, holding nothing, whose stream keeps no state of its own: its
// decoder, stream and source go (a new stream of the same key resumes from the checkpoint).
void Tailer::sleep(Tail& t) {
  if (!t.stream || !t.parked || !t.at_eof || !t.carry.empty() || t.dec->has_pending() ||
      t.stream->unsettled() != 0 || t.stream->next_flush() || t.stream->keeps_state()) {
    return;
  }
  t.dec.reset();
  t.stream.reset();
  t.source.reset();
  ++slept_;
}

// True when the file starts with `head` (as far as both go): the fingerprint's hash when
// `head` covers it, else the file's own first bytes.
bool Tailer::starts_with(Tail& t, const std::string& head) {
  if (!t.fingerprinted || t.fp_len == 0) return false;
  if (head.size() >= t.fp_len) return fnv1a(head.data(), t.fp_len) == t.fp_hash;
  int fd = t.fd >= 0 ? t.fd : ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  std::string mine;
  const bool same = read_prefix(fd, head.size(), &mine) && mine == head;
  if (fd != t.fd) ::close(fd);
  return same;
}

// A truncated file that grew back past our offset before we noticed: its first bytes differ.
// Rewriting them changes the size or the mtime, so a file whose both are what they were at
// the last check is not read again (a pread per file per scan, 10,000 files).
void Tailer::verify_fingerprint(Tail& t, bool always) {
  if (t.fp_len == 0 || t.gz != nullptr) return;
  struct stat st{};
  const bool have = ::fstat(t.fd, &st) == 0;
  if (!always && have && st.st_size == t.fp_checked_size &&
      st.st_mtim.tv_sec == t.fp_checked_mtime.tv_sec &&
      st.st_mtim.tv_nsec == t.fp_checked_mtime.tv_nsec) {
    return;
  }
  uint64_t h = 0;
  if (hash_prefix(t.fd, t.fp_len, &h) && h == t.fp_hash) {
    if (have) {
      t.fp_checked_size = st.st_size;
      t.fp_checked_mtime = st.st_mtim;
    }
    return;
  }
  t.fp_checked_size = -1;
  truncated(t, "file content replaced");
}

// ---- what to read ----

void Tailer::queue(Tail& t) {
  if (t.queued) return;
  t.queued = true;
  ready_.push_back(&t);
}

void Tailer::tend(Tail& t) {
  if (t.tended) return;
  wake(t);   // housekeeping looks at its decoder and stream
  t.tended = true;
  tending_.push_back(&t);
}

void Tailer::unqueue(Tail& t) {
  if (!t.queued) return;
  t.queued = false;
  ready_.erase(std::find(ready_.begin(), ready_.end(), &t));
}

bool Tailer::changed(const std::string& path) {
  auto p = by_path_.find(path);
  if (p == by_path_.end()) return false;
  queue(*p->second);
  return true;
}

void Tailer::all_changed() {
  for (auto& [key, t] : tails_) queue(*t);
}

void Tailer::mark_gone(Tail& t) {
  if (t.gone) return;
  t.gone = true;
  queue(t);   // read to its end, and polled until released: its new name is not followed
  tend(t);
  t.last_growth = SteadyClock::now();
  if (t.parked) t.at_eof = false;   // not read to its end until it has its descriptor back
  log_.info("file rotated or removed; reading it to its end",
            log::kv("path", t.path) + log::kv("offset", static_cast<int64_t>(t.read_off)));
}

// copytruncate: restart at 0. What was written between our last read and the copy is in
// the copy (<path>.1) if logrotate made one; read it from our offset.
void Tailer::truncated(Tail& t, const char* why) {
  wake(t);   // found by a scan before its first read
  log_.info("file truncated; reading from the start",
            log::kv("path", t.path) + log::kv("reason", why) +
                log::kv("offset", static_cast<int64_t>(t.read_off)));
  // Records consumed but held back are lost with the old content; emit them.
  BatchPtr batch = std::make_unique<Batch>(t.source, 16);
  t.dec->flush(*batch, SteadyClock::now(), true);
  const uint64_t old_off = t.dec->safe_offset();
  const std::size_t old_fp_len = t.fingerprinted ? t.fp_len : 0;
  const uint64_t old_fp_hash = t.fp_hash;
  const uint64_t old_size = t.size_seen;
  std::string copy = t.path + ".1";
  t.carry.clear();
  t.read_off = 0;
  t.size_seen = 0;   // new content: what was seen of the old one is the copy's
  ::lseek(t.fd, 0, SEEK_SET);
  t.dec->reset(0);
  t.fp_len = 0;
  t.fingerprinted = false;
  update_fingerprint(t);
  emit(t, std::move(batch), /*force=*/true);
  if (old_fp_len == 0 || t.gone) return;
  // Not found as <path>.1 (compressed at once, or named otherwise): a compressed generation
  // that appears with these first bytes is read from old_off (compressed()).
  auto orphan = [&] {
    if (!o_.read_compressed) return;
    orphans_.push_back(Orphan{std::string(t.owner()), old_fp_len, old_fp_hash, old_off, old_size, t.path,
                              SteadyClock::now(), 0});
  };
  int fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    orphan();
    return;
  }
  struct stat st{};
  uint64_t h = 0;
  bool match = ::fstat(fd, &st) == 0 && hash_prefix(fd, old_fp_len, &h) && h == old_fp_hash;
  ::close(fd);
  if (!match) orphan();
  if (!match || tails_.count(key_of(st)) || retired_.count(key_of(st))) return;
  // Opened even when we had read it all: its checkpoint then marks it as seen.
  Tail* c = open_tail(copy, std::string(t.owner()), false,
                      std::min<uint64_t>(old_off, static_cast<uint64_t>(st.st_size)));
  if (c != nullptr) {
    by_path_.erase(copy);
    mark_gone(*c);
  }
}

// ---- compressed generations ----

namespace {

constexpr std::string_view kGzMark = "gz:";

// How long a compressed generation whose first bytes cannot be read yet (gzip or Docker is
// writing it) is given before it is judged as it is.
constexpr auto kCompressingGrace = std::chrono::seconds(10);

// Where a file's committed position is: a sleeping file (no decoder) holds nothing back.
uint64_t safe_offset(const auto& t) { return t.dec ? t.dec->safe_offset() : t.read_off; }

bool recently_modified(const struct stat& st) {
  struct timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now.tv_sec - st.st_mtim.tv_sec < kCompressingGrace.count();
}

}  // namespace

void Tailer::compressed(const std::string& path, const std::string& owner,
                        bool owner_since_start) {
  if (!o_.read_compressed) return;
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const std::string key = key_of(st);
  present_keys_.emplace(std::string_view(key));
  if (tails_.count(key) || closing_keys_.count(key)) return;
  // Judged already (read, or nothing to read): unless its inode now holds another file.
  if (auto r = retired_.find(key); r != retired_.end()) {
    if (r->second.same_file(st)) return;
    retired_missed_.erase(key);
    retired_.erase(r);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno != ENOENT) fs_error("open a compressed generation", path, std::strerror(errno));
    return;
  }
  std::string head;
  bool complete = false;
  const bool readable = gz_prefix(fd, kFingerprintBytes, &head, &complete);
  if (head.size() < kFingerprintBytes && !complete && recently_modified(st)) {
    ::close(fd);   // being written: its first bytes are not all there yet
    return;
  }
  bool defer = false;
  bool matched = false;
  std::optional<CompressedStart> start;
  if (readable && !head.empty()) start = compressed_start(key, owner, head, &defer, &matched);
  if (defer) {
    ::close(fd);   // its plain file is still being read: that read has every byte
    held_gz_.insert(key);   // even once that file's checkpoint is gone
    return;
  }
  const bool held = held_gz_.erase(key) > 0;
  if (!start && owner_since_start && readable && !head.empty() && !matched && !held &&
      !plain_file_holds(owner, head)) {
    // Created, filled, rotated and compressed between two looks, in a container started while
    // logship runs: nothing of it was read, and no other file holds its lines.
    start = CompressedStart{0, 0, {}, "generation compressed before logship saw it"};
  }
  const Retired judged{st.st_size, st.st_mtim};
  if (!start) {
    ::close(fd);
    retired_[key] = judged;   // not a generation logship was reading: left alone
    return;
  }
  // Nothing past the offset: the trailer's size says so without decompressing the file.
  if (auto size = gz_trailer_size(fd); size && *size == static_cast<uint32_t>(start->offset)) {
    ::close(fd);
    retired_[key] = judged;
    if (start->parked != nullptr) hand_over(*start->parked);
    return;
  }
  if (!make_room()) {
    ::close(fd);
    over_budget_ = true;
    return;
  }
  auto t = Tail::opened(path, owner, key, fd, round_);
  t->gz = std::make_unique<Tail::Compressed>();
  t->gz->reader = std::make_unique<GzReader>(fd, start->offset, o_.max_decompressed_size);
  t->gz->size_hint = start->size_hint;
  t->gz->supersedes = start->supersedes;
  t->fp_len = std::min(head.size(), kFingerprintBytes);
  t->fp_hash = fnv1a(head.data(), t->fp_len);
  t->fingerprinted = true;   // fp_text() adds kGzMark
  t->gz->head = head.substr(0, t->fp_len);
  Tail* raw = t.get();
  if (start->parked != nullptr) hand_over(*start->parked);
  register_tail(std::move(t), start->offset, !start->own, start->why);
  compressed_read_metric_->fetch_add(1, std::memory_order_relaxed);
  by_path_.erase(path);
  mark_gone(*raw);
}

// Where a compressed generation (first uncompressed bytes `head`) resumes: its own checkpoint;
// else the copy of a truncated file this one is; else the checkpoint of the file it was
// compressed from, which no file on disk holds any longer. `defer`: that file is still read.
std::optional<Tailer::CompressedStart> Tailer::compressed_start(const std::string& key,
                                                                const std::string& owner,
                                                                const std::string& head,
                                                                bool* defer, bool* matched) {
  auto same_head = [&](const std::string& text, std::string_view mark) {
    std::size_t len = 0;
    uint64_t hash = 0;
    if (text.compare(0, mark.size(), mark) != 0) return false;
    return parse_fingerprint(text.substr(mark.size()), &len, &hash) && len > 0 &&
           len <= head.size() && fnv1a(head.data(), len) == hash;
  };
  if (auto own = ctx_.saved_position(key); own && same_head(own->text, kGzMark)) {
    return CompressedStart{own->offset, 0, {}, "checkpoint", true};
  }
  for (auto it = orphans_.begin(); it != orphans_.end(); ++it) {
    if (it->owner != owner || it->fp_len > head.size() ||
        fnv1a(head.data(), it->fp_len) != it->fp_hash) {
      continue;
    }
    CompressedStart s{it->offset, it->size_seen, {}, "compressed copy of a truncated file"};
    orphans_.erase(it);
    return s;
  }
  std::optional<CompressedStart> found;
  int matches = 0;
  for (const auto& [k, pos] : ctx_.saved_positions(o_.kind + ":")) {
    if (k == key || !same_head(pos.text, "")) continue;
    *matched = true;
    auto t = tails_.find(k);
    if (t != tails_.end() && t->second->parked && t->second->gone && t->second->forget) {
      // Lagging: closed for max_open_files, and its plain file compressed away before its
      // turn. The .gz takes over from where it was.
      Tail& p = *t->second;
      struct stat now{};
      if (::stat(p.path.c_str(), &now) != 0 || key_of(now) != p.key) {
        return CompressedStart{safe_offset(p), p.size_seen, k,
                               "parked generation compressed before its turn", false, &p};
      }
    }
    if (t != tails_.end() || closing_keys_.count(k)) {
      *defer = true;   // read from its own descriptor, which still has every byte
      return std::nullopt;
    }
    if (holds_checkpoint(k, pos)) continue;   // the plain file is still on disk
    if (!found || found->offset != pos.offset) ++matches;
    found = CompressedStart{pos.offset, 0, k, "checkpoint of the file it was compressed from"};
  }
  if (matches > 1) {
    // Files that start with the same bytes, at different offsets: which one this was compressed
    // from cannot be told; reading from either could repeat or skip lines.
    log_.warn("compressed generation matches several checkpoints; not read", log::kv("key", key));
    return std::nullopt;
  }
  return found;
}

// A plain (not compressed) file of the owner starts with `head`: the compressed generation is
// a copy of it (Docker deletes the plain one only once the .gz is written).
bool Tailer::plain_file_holds(const std::string& owner, const std::string& head) {
  for (const auto& [key, t] : tails_) {
    if (t->gz == nullptr && t->owner() == owner && starts_with(*t, head)) return true;
  }
  return false;
}

// True when a file this scan saw is the one the checkpoint was taken on (same inode, same
// first bytes, not shorter than the offset).
bool Tailer::holds_checkpoint(const std::string& key, const Position& pos) {
  auto f = present_files_.find(key);
  return f != present_files_.end() && file_holds(std::string(f->second), pos) == Holds::kYes;
}

// The parked file's unread part is the compressed generation's now: released at its safe
// offset, without its held-back records (read again from the .gz) and without a loss.
void Tailer::hand_over(Tail& p) {
  const uint64_t at = safe_offset(p);
  p.carry.clear();
  if (p.dec) p.dec->reset(at);
  p.read_off = at;
  p.size_seen = at;
  p.at_eof = true;
  p.last_growth = TimePoint{};
  queue(p);
  tend(p);
}

// A compressed generation read as far as it goes: what could not be read is counted.
void Tailer::compressed_done(Tail& t) {
  GzReader& gz = *t.gz->reader;
  if (gz.ended_before_start()) {
    log_.warn("compressed generation shorter than the checkpoint it matched; not read",
              log::kv("path", t.path) + log::kv("offset", static_cast<int64_t>(gz.position())));
    return;
  }
  if (gz.finished()) return;
  // A line cut by the damage is not a line the writer wrote: dropped, not finished.
  t.carry.clear();
  const std::string why = gz.failed() ? gz.error() : "gzip stream cut short";
  const uint64_t lost = t.gz->size_hint > t.read_off ? t.gz->size_hint - t.read_off : 0;
  compressed_failed_metric_->fetch_add(1, std::memory_order_relaxed);
  lost_bytes_metric_->fetch_add(lost, std::memory_order_relaxed);
  log_.warn("compressed generation not read to its end",
            log::kv("path", t.path) + log::kv("error", why) +
                log::kv("offset", static_cast<int64_t>(t.read_off)) +
                log::kv("lost_bytes", static_cast<int64_t>(lost)));
}

// The copy of a truncated file that no compressed generation turned out to be, after two
// complete scans and the time a compression takes: forgotten. Not counted as lost: the copy
// may exist under a name the tailer does not tie to the file (dateext's <name>-<date>).
void Tailer::expire_orphans() {
  const TimePoint now = SteadyClock::now();
  for (auto it = orphans_.begin(); it != orphans_.end();) {
    if (++it->missed_scans < 2 || now - it->since < kCompressingGrace) {
      ++it;
      continue;
    }
    if (it->size_seen > it->offset) {
      log_.info("no compressed copy of a truncated file turned up",
                log::kv("path", it->path) +
                    log::kv("offset", static_cast<int64_t>(it->offset)) +
                    log::kv("unread_bytes", static_cast<int64_t>(it->size_seen - it->offset)));
    }
    it = orphans_.erase(it);
  }
}

// ---- the descriptor budget (max_open_files) ----

std::size_t Tailer::open_files() const { return open_.size(); }

// Room for one more descriptor: parks the open file whose turn began longest ago (one at
// its end first). False when every open file still waits for its first read since opened.
bool Tailer::make_room() {
  if (open_files() < max_open_) return true;
  Tail* victim = nullptr;
  // Only the open files: the budget is small beside 10,000 followed ones.
  for (auto& [key, t] : open_) {
    Tail& c = *t;
    if (c.fd < 0 || c.gone || c.opened_round >= round_ || &c == reading_) continue;
    if (victim == nullptr || (c.at_eof && !victim->at_eof) ||
        (c.at_eof == victim->at_eof && c.opened_round < victim->opened_round)) {
      victim = &c;
    }
  }
  if (victim == nullptr) return false;
  park(*victim);
  return true;
}

// Closes the file's descriptor, keeping its state (offset, partial line, fingerprint): it is
// reopened by path when an event or a scan says it changed and it grew.
void Tailer::park(Tail& t) {
  ::close(t.fd);
  t.fd = -1;
  t.parked = true;
  ++parked_;
  open_.erase(t.key);
  if (t.at_eof) t.unpublish_lag();   // nothing to read: no series until it is read again
}

// Only the parked files that may have data (an event, a scan): the others cost nothing.
void Tailer::unpark_round() {
  std::size_t kept = 0;
  bool full = false;   // no room for another descriptor this round: the rest keep waiting
  for (std::size_t i = 0; i < ready_.size(); ++i) {
    Tail* t = ready_[i];
    bool keep = true;
    if (t->parked && !full && !ctx_.stopping() && !aborted_) {
      keep = unpark(*t, &full);
    }
    if (keep) {
      ready_[kept++] = t;
    } else {
      t->queued = false;
    }
  }
  ready_.resize(kept);
}

// False when the parked file has nothing to read for now.
bool Tailer::unpark(Tail& t, bool* full) {
  if (!t.forget || (t.gone && t.at_eof)) return false;   // released by housekeeping
  struct stat st{};
  // Moved or replaced: the scan finds a rotated file under its new name (rotated()) or,
  // missing from two scans, declares it deleted (forget_deleted_parked).
  if (::stat(t.path.c_str(), &st) != 0 || key_of(st) != t.key) return false;
  t.saw_size(st);
  if (!t.gone && static_cast<uint64_t>(st.st_size) == t.read_off) return false;
  t.at_eof = false;   // something left to read: not idle
  if (!make_room()) {
    *full = true;
    return true;
  }
  reopen(t);
  return !t.parked;
}

void Tailer::reopen(Tail& t) {
  int fd = ::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno != ENOENT) {
    fs_error("reopen a log file", t.path, std::strerror(errno));   // EMFILE: next round
    return;
  }
  struct stat st{};
  if (fd >= 0 && ::fstat(fd, &st) == 0 && key_of(st) == t.key &&
      ::lseek(fd, static_cast<off_t>(t.read_off), SEEK_SET) >= 0) {
    t.fd = fd;
    open_[t.key] = &t;
    t.parked = false;
    --parked_;
    t.opened_round = round_;
    t.publish_lag(ctx_.name());
    wake(t);
    give_head(t);
    verify_fingerprint(t, true);   // same device and inode; the same first bytes too
    return;
  }
  if (fd >= 0) ::close(fd);   // moved in between: the next scan finds where
}

// A parked file the path no longer names and that two complete scans in a row did not find
// under a rotated name was deleted before it was read to its end: release it.
void Tailer::forget_deleted_parked() {
  for (auto& [key, t] : tails_) {
    if (!t->parked || !t->gone || t->at_eof || present_keys_.count(t->key)) {
      t->missed_scans = 0;
      continue;
    }
    if (++t->missed_scans < 2) continue;
    const uint64_t lost = t->size_seen > t->read_off ? t->size_seen - t->read_off : 0;
    lost_bytes_metric_->fetch_add(lost, std::memory_order_relaxed);
    log_.warn("rotated file deleted before it was read to its end",
              log::kv("path", t->path) + log::kv("offset", static_cast<int64_t>(t->read_off)) +
                  log::kv("lost_bytes", static_cast<int64_t>(lost)));
    t->at_eof = true;
    t->last_growth = TimePoint{};
  }
}

// ---- reading ----

// The lag series of the files registered since the last call. Made after a scan registered
// them all rather than one by one: side by side above what stays for each file, they are
// freed together when the files go to sleep instead of leaving a hole between every file's
// Tail and map nodes (8 MiB of idle RSS at 10,000 containers).
// At most max_awake of them at once: the others wait for their first read anyway (read in
// waves) and get theirs then, so a catch-up of 10,000 files does not hold 10,000 series.
void Tailer::publish_new_lags() {
  std::size_t made = 0;
  for (Tail* t : unpublished_) {
    if (t->fd < 0) continue;   // parked meanwhile: published when it is reopened
    if (made++ >= o_.max_awake) break;
    t->publish_lag(ctx_.name());
    t->update_lag();
  }
  unpublished_.clear();
}

bool Tailer::read_round() {
  publish_new_lags();
  ++round_;
  bool progress = false;
  // This round reads what was queued before it; what it queues (a copy of a truncated file)
  // and what still has data are read next round, after the others.
  round_list_.clear();
  round_list_.swap(ready_);
  for (Tail* t : round_list_) t->queued = false;
  deferring_ = false;
  for (Tail* t : round_list_) {
    const bool stop = ctx_.stopping() || aborted_;
    if (!stop && !t->parked && !t->stream && tending_.size() >= o_.max_awake &&
        t->deferred_rounds < o_.max_deferred_rounds) {
      ++t->deferred_rounds;
      deferring_ = true;
      queue(*t);
      continue;
    }
    if (!stop && !t->parked) {
      t->deferred_rounds = 0;
      reading_ = t;
      wake(*t);   // a file found by a scan gets its decoder and stream at its first read
      if (read_file(*t)) progress = true;
      reading_ = nullptr;
      tend(*t);
      // At its end: nothing to do until an event. Draining (gone) ones are polled: their
      // writer may still finish a line under a name nobody follows.
      if (t->at_eof && !t->gone) continue;
    }
    queue(*t);   // parked ones wait for unpark_round
  }
  round_list_.clear();
  return progress;
}

std::size_t Tailer::awake_files() const {
  std::size_t n = 0;
  for (const auto& [key, t] : tails_) n += t->stream != nullptr;
  return n;
}

// Reads up to round_bytes from the file; true if it got data.
bool Tailer::read_file(Tail& t) {
  uint64_t budget = o_.round_bytes;
  bool got = false;
  const std::size_t chunk = o_.read_size;
  while (budget > 0 && !ctx_.stopping() && !aborted_) {
    const std::size_t carry = t.carry.size();
    const std::size_t need = carry + chunk + o_.read_padding;
    if (buf_.size() < need) buf_.resize(need);
    buf_mem_.set(buf_.capacity());
    if (carry) std::memcpy(buf_.data(), t.carry.data(), carry);
    ssize_t n = t.gz != nullptr ? t.gz->reader->read(buf_.data() + carry, chunk)
                                : ::read(t.fd, buf_.data() + carry, chunk);
    if (n < 0 && t.gz != nullptr) {
      t.at_eof = true;   // judged when released (compressed_done)
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      log_.warn(open_limit_, "read failed",
                log::kv("path", t.path) + log::kv("error", std::strerror(errno)));
      break;
    }
    if (n == 0 && t.gz != nullptr) {
      t.at_eof = true;   // the end, or waiting for the rest of a file being compressed
      break;
    }
    if (n == 0) {
      t.at_eof = true;
      struct stat st{};
      if (::fstat(t.fd, &st) == 0) {
        if (!t.gone && static_cast<uint64_t>(st.st_size) < t.read_off) {
          truncated(t, "size shrank");
          continue;
        }
        // Scans are rare: the lag of a file read to its end is refreshed here.
        t.saw_size(st);
        // A quiet file holds no buffer: its last partial line's capacity goes back too.
        if (t.carry.empty() && t.carry.capacity() > sizeof(std::string)) {
          std::string().swap(t.carry);
          t.carry_mem.set(0);
        }
        if (t.lag != nullptr) {
          t.lag->store(std::max<int64_t>(0, static_cast<int64_t>(st.st_size) -
                                                static_cast<int64_t>(t.read_off)),
                       std::memory_order_relaxed);
        }
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
    std::size_t used = t.dec->consume(buf_.data(), total, buf_.size(), t.read_off - total,
                                      *batch, t.last_growth);
    t.note_read(*batch);
    t.carry.assign(buf_.data() + used, total - used);
    // An idle file keeps no large carry: 1,000 followed files must not each hold their largest.
    if (t.carry.empty() && t.carry.capacity() > 4096) std::string().swap(t.carry);
    t.carry_mem.set(t.carry.capacity());
    if (t.fp_len < kFingerprintBytes) update_fingerprint(t);
    if (!emit(t, std::move(batch), false)) break;
  }
  return got;
}

bool Tailer::emit(Tail& t, BatchPtr batch, bool force) {
  const uint64_t pos = t.dec->safe_offset();
  if (batch->size() == 0 && pos == t.emitted && !force) return true;
  t.emitted = pos;
  if (!t.stream->emit(std::move(batch), Position{pos, t.fp_text()})) {
    aborted_ = true;
    return false;
  }
  return true;
}

bool Tailer::all_idle() const {
  if (over_budget_) return false;   // files found by the last scan still wait to be opened
  for (const auto& [key, t] : tails_) {
    if (!t->at_eof || (t->dec && t->dec->has_pending()) || !t->carry.empty()) return false;
  }
  return true;
}

std::optional<TimePoint> Tailer::next_flush() const {
  std::optional<TimePoint> best;
  for (const Tail* t : tending_) {
    if (auto f = t->dec->next_flush(); f && (!best || *f < *best)) best = f;
    if (auto f = t->stream->next_flush(); f && (!best || *f < *best)) best = f;
  }
  return best;
}

void Tailer::flush_all() {
  for (auto& [key, t] : tails_) {
    if (t->stream) t->stream->flush(true);
  }
  for (auto& t : closing_) t->stream->flush(true);
}

// Only the tended files: one at its end with nothing held back has nothing to flush or release
// until it is read again (10,000 quiet files cost nothing here).
void Tailer::charge_files() {
  files_mem_.set((tails_.size() + closing_.size()) * kFollowedFileBytes);
}

void Tailer::housekeeping(TimePoint now) {
  publish_new_lags();   // before any file is released
  charge_files();
  std::vector<std::string> release;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < tending_.size(); ++i) {
    Tail* t = tending_[i];
    if (auto f = t->dec->next_flush(); f && *f <= now) {
      BatchPtr batch = std::make_unique<Batch>(t->source, 4);
      t->dec->flush(*batch, now, false);
      emit(*t, std::move(batch), false);
    }
    auto stream_due = t->stream->next_flush();
    if (stream_due && *stream_due <= now) {
      t->stream->flush(false);
      stream_due = t->stream->next_flush();
    }
    if (t->gone && (!t->forget || (t->at_eof && now - t->last_growth >= o_.rotate_wait))) {
      release.push_back(t->key);
      t->tended = false;   // leaves tending_ now: released below
      continue;
    }
    const bool quiet = !t->gone && t->at_eof && t->carry.empty() && !t->dec->has_pending() &&
                       !t->dec->next_flush() && !stream_due;
    // A quiet file stays tended until it has been quiet for close_idle, then gives its
    // descriptor back (reopened by path, checked by device, inode and fingerprint, when its
    // directory's events say it changed). At once while files wait for max_awake.
    if (quiet && !t->parked && o_.close_idle.count() > 0 && !deferring_ &&
        now - t->last_growth < o_.close_idle) {
      tending_[kept++] = t;
      continue;
    }
    if (quiet && !t->parked && o_.close_idle.count() > 0 && t != reading_) {
      park(*t);
      ++idle_closed_;
    }
    if (quiet && t->parked && t->stream && !t->stream->keeps_state() &&
        t->stream->unsettled() != 0) {
      tending_[kept++] = t;   // to sleep once what it emitted is delivered
      continue;
    }
    if (quiet) sleep(*t);
    if (quiet) {
      t->tended = false;
    } else {
      tending_[kept++] = t;
    }
  }
  tending_.resize(kept);
  parked_metric_->store(static_cast<int64_t>(parked_), std::memory_order_relaxed);
  if (idle_closed_ != idle_closed_published_) {
    idle_closed_metric_->fetch_add(idle_closed_ - idle_closed_published_,
                                   std::memory_order_relaxed);
    idle_closed_published_ = idle_closed_;
  }
  for (const std::string& key : release) {
    auto node = tails_.extract(key);
    open_.erase(key);
    Tail& t = *node.mapped();
    unqueue(t);
    std::erase(unpublished_, &t);
    if (t.parked) --parked_;
    struct stat st{};
    t.retire = t.forget && t.fd >= 0 && ::fstat(t.fd, &st) == 0 && st.st_nlink > 0;
    const Retired released{st.st_size, st.st_mtim};   // tells it from a reuse of its inode
    if (t.gz != nullptr) compressed_done(t);
    if (t.forget) {
      // The writer is gone: a last line without its terminator will never be finished.
      BatchPtr batch = std::make_unique<Batch>(t.source, 4);
      if (!t.carry.empty()) {
        const std::string_view term = t.dec->terminator();
        std::string last = t.carry;
        last.append(term);
        last.resize(last.size() + o_.read_padding, ' ');
        t.dec->consume(last.data(), t.carry.size() + term.size(), last.size(),
                       t.read_off - t.carry.size(), *batch, now);
        t.carry.clear();
      }
      t.dec->flush(*batch, now, true);
      emit(t, std::move(batch), true);
    }
    t.stream->flush(true);
    if (t.fd >= 0) {
      ::close(t.fd);   // nothing more to read: the descriptor goes back to the budget
      t.fd = -1;
    }
    log_.info("file released",
              log::kv("path", t.path) + log::kv("offset", static_cast<int64_t>(t.read_off)));
    closing_keys_.emplace(key, released);
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
      retired_[(*it)->key] = closing_keys_[(*it)->key];
    } else if ((*it)->forget) {
      ctx_.forget_position((*it)->key);
    }
    // A compressed generation continued the checkpoint of the file it was compressed from:
    // read and settled, that one has no file left to mark (unless a new file took its inode).
    const std::string& old = (*it)->supersedes();
    if (!old.empty() && !tails_.count(old) && !closing_keys_.count(old) && !retired_.count(old)) {
      ctx_.forget_position(old);
    }
    closing_keys_.erase((*it)->key);
    it = closing_.erase(it);
  }
}

void Tailer::fs_error(std::string_view what, const std::string& path, const std::string& error) {
  fs_errors_metric_->fetch_add(1, std::memory_order_relaxed);
  log_.warn(open_limit_, "cannot " + std::string(what) + "; retrying at the next scan",
            log::kv("path", path) + log::kv("error", error));
}

}  // namespace logship::tail
