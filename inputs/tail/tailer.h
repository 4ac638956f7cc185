#pragma once
// The set of files one input follows, whatever their format: docker, cri and file are each a
// discovery layer (which paths are active files, which are rotated generations) and a Decoder
// over one Tailer.
//
// Identity and checkpoints: a file is its (dev, inode); the checkpoint key is
// "<kind>:<dev>:<inode>" and Position.text holds a fingerprint of the file's first bytes, so a
// reused inode (or a file truncated and rewritten while we were down) restarts at 0. The
// position emitted is the offset after the last fully emitted record, or the start of what the
// decoder still holds back, so a restart re-reads what was not delivered.
//
// Rotation: when the path names another inode (rename + create: Docker, kubelet, logrotate
// `create`) or is gone, the old descriptor is read to its end and kept for rotate_wait without
// growth, then released; its checkpoint is kept while the file is still on disk (retired), so a
// restart tells a generation it read from one it never saw. A file that shrank (copytruncate)
// restarts at 0; what was appended between our last read and the copy is read from the copy
// (<name>.1) when its first bytes match.
//
// Compressed generations (<name>.1.gz, Docker's -json.log.1.gz): read only when a checkpoint
// says logship had not finished the file they were compressed from (it was stopped, lagging,
// or the copy of a truncated file was compressed before it was read): the checkpoint whose
// fingerprint matches their first uncompressed bytes, and that no file on disk still holds,
// gives the uncompressed offset to resume from (GzReader). Read to their end, they keep a
// checkpoint of their own ("gz:fp=...") while they exist. Any other .gz is left alone.
//
// Descriptors: a file at its end with nothing held back for close_idle is parked (closed, state
// kept), and at most max_open_files are open (beyond it the longest-open files are parked);
// a parked file is reopened by path, checked to be the same device, inode and fingerprint,
// when an event (or a scan) says it changed and it grew. A rotation while parked is found by
// the scan its directory's events ask for (rotated() names it under its new name).
//
// Driving: one thread calls everything. A scan is begin_scan(), then active()/rotated()/
// unlisted_dir() for what discovery found, then end_scan(). Between scans read_round() reads
// the files that may have data, in turn (round_bytes each), unpark_round() gives those of
// them that are parked a descriptor back, housekeeping() flushes, releases and drops
// checkpoints. A file may have data when it is new or reopened, was not read to its end, is
// draining after a rotation, or changed() named it (an inotify event); a scan, or
// all_changed() (polling without inotify), says it of every file. A file at its end with no
// event costs nothing: no read, no stat.
#include <sys/stat.h>

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <memory_resource>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/clock.h"
#include "daemon/core/plugin_api.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "inputs/tail/decoder.h"

namespace logship::tail {

// What following one file costs while it exists, awake or asleep: its Tail, path and key
// strings, their map nodes, checkpoint entry and lag series, and the allocator's slack between
// them (heaptrack and RSS per container at 10,000 idle containers, bench/README.md). Charged
// to the memory budget's followed_files part.
inline constexpr std::size_t kFollowedFileBytes = 4096;

struct TailerOptions {
  std::string kind;                    // "docker", "cri", "file": log component, key prefix
  bool read_from_tail = false;         // files found by the first scan without a checkpoint
  std::size_t read_size = 256 << 10;   // bytes per read()
  uint64_t round_bytes = 1 << 20;      // bytes of one file per round
  std::size_t max_open_files = 0;      // 0 = half of RLIMIT_NOFILE
  std::chrono::milliseconds rotate_wait{5000};
  // A file at its end with nothing held back is closed after this long (0: kept open).
  std::chrono::milliseconds close_idle{10000};
  std::size_t read_padding = 0;        // readable bytes the decoder needs past its data
  bool read_compressed = true;         // resume unfinished generations from their .gz
  uint64_t max_decompressed_size = 4ull << 30;   // per compressed generation
  // Files awake at once (decoder, stream, source, batches in flight): beyond it, a file's
  // first read waits until others went to sleep, and files read to their end sleep at once
  // instead of after close_idle. A scan that finds 10,000 files reads them in waves: what a
  // wave makes and frees is reused by the next instead of leaving holes all over the heap
  // between what stays (idle RSS at 10,000 containers 74 -> 48 MiB, bench/README.md).
  std::size_t max_awake = 512;
  // Read rounds a file waits for max_awake at most: files that never reach their end cannot
  // keep the others waiting for longer.
  unsigned max_deferred_rounds = 100;
};

// What the input above the tailer provides for each file it opens.
class TailerClient {
 public:
  virtual ~TailerClient() = default;
  virtual std::unique_ptr<Decoder> new_decoder() = 0;
  // The decoder of a file of `owner` (a container input counts each container's events).
  virtual std::unique_ptr<Decoder> new_decoder_for(const std::string& owner) {
    (void)owner;
    return new_decoder();
  }
  // The source of a file; `owner` is what discovery named it with (a container, a glob).
  virtual std::shared_ptr<const SourceInfo> source_for(const std::string& owner,
                                                       const std::string& key,
                                                       const std::string& path) = 0;
};

class Tailer {
 public:
  Tailer(const TailerOptions& o, InputContext& ctx, TailerClient& client);
  ~Tailer();
  Tailer(const Tailer&) = delete;
  Tailer& operator=(const Tailer&) = delete;

  // ---- scan protocol ----
  // `dirs`: a partial scan, of the files directly in these directories (where inotify saw
  // files created, moved or deleted); the others are kept as they are. Null: a complete one.
  void begin_scan(const std::set<std::string>* dirs = nullptr);
  // A partial scan also judges the files directly in `dir` (one discovery found while
  // scanning: a nested directory of a directory with events). Nothing in a complete one.
  void also_scan_dir(const std::string& dir);
  // `path` is an active file of `owner` (appended to by its writer).
  void active(const std::string& path, const std::string& owner);
  // `path` is a rotated generation of `owner`'s files: resumed from its checkpoint, read from
  // the start when never seen, skipped when it is a copy of an active file.
  void rotated(const std::string& path, const std::string& owner);
  // `path` is a gzip-compressed generation of `owner`'s files. Called after active() and
  // rotated() for the owner's other files. Read from the offset a checkpoint of the file it was
  // compressed from reached; skipped when there is none.
  // `owner_since_start`: discovery first found the owner after the first scan (a container
  // started while logship runs), so no earlier run read any of its files: a generation no
  // checkpoint names was created, filled, rotated and compressed between two looks and is read
  // from its start, unless a plain file of the owner holds the same bytes (Docker compressing a
  // generation it has not deleted yet). Otherwise such a .gz may be an archive read long ago.
  void compressed(const std::string& path, const std::string& owner,
                  bool owner_since_start = false);
  // A directory this scan could not list, or did not list (a partial scan of the directories
  // with events), or whose files it must not judge: its files are not taken for gone. A scan
  // with any is partial: retired checkpoints, deleted parked files, fingerprints and the
  // read of every file wait for a complete one.
  void unlisted_dir(const std::string& dir);
  bool in_unlisted_dir(const std::string& path) const;
  void end_scan();
  // The root is missing: every active file is gone.
  void all_gone();
  bool scanned_once() const { return scanned_once_; }
  // The input's log: what the follow loop says of the files is said in the tailer's name.
  const ComponentLog& log() const { return log_; }
  // The last scan found files it could not open within max_open_files: once the open ones had
  // their read, the next scan can park some and open more.
  bool over_budget() const { return over_budget_; }

  // ---- owners ----
  // Stop reading the owner's files; keep their checkpoints (it may be selected again).
  void exclude_owner(const std::string& owner);
  // The owner's metadata changed: its files' next batches take a new source.
  void refresh_sources(const std::string& owner);

  // ---- reading ----
  // `path` changed (inotify): if it is a followed file, it is read (or reopened) next round.
  // True if it is followed.
  bool changed(const std::string& path);
  // Every file may have changed: events were lost, or there are none (polling).
  void all_changed();
  // Reads every file that may have data, in turn; true if any had data.
  bool read_round();
  // Files are waiting to be read or reopened, or draining after a rotation: the loop must not
  // wait for an event to come back.
  bool busy() const { return !ready_.empty(); }
  // The last round left files waiting for others to sleep (max_awake): the next one is soon.
  bool deferring() const { return deferring_; }
  // Files with a decoder and stream now.
  std::size_t awake_files() const;
  // Parked files that grew, or rotated ones to drain, get a descriptor back in turn.
  void unpark_round();
  // Emits timed-out held records, releases drained rotated files, drops settled checkpoints.
  void housekeeping(TimePoint now);
  // Every file at its end with nothing held back.
  bool all_idle() const;
  // The earliest time housekeeping() has something to flush.
  std::optional<TimePoint> next_flush() const;
  // At stop: everything held back goes out.
  void flush_all();
  // An emit failed: the daemon is shutting down past its deadline.
  bool aborted() const { return aborted_; }
  std::size_t files() const { return tails_.size(); }
  // Files put to sleep so far (closed while idle, their decoder and stream dropped).
  uint64_t slept() const { return slept_; }
  std::size_t open_files() const;

  // A listing or open that failed: counted, logged (rate-limited), retried at the next scan.
  void fs_error(std::string_view what, const std::string& path, const std::string& error);
  std::string key_of(const struct stat& st) const;

 private:
  struct Tail;
  // A released rotated file still on disk, identified by size and mtime besides its inode.
  struct Retired {
    off_t size = 0;
    struct timespec mtime{};
    bool same_file(const struct stat& st) const;
  };

  // The file a copytruncate copied from, when its copy was not found beside it: what was not
  // read of it may be in a compressed copy (<name>.1.gz) that appears later.
  struct Orphan {
    std::string owner;
    std::size_t fp_len = 0;
    uint64_t fp_hash = 0;
    uint64_t offset = 0;
    uint64_t size_seen = 0;
    std::string path;
    TimePoint since{};
    int missed_scans = 0;
  };
  struct CompressedStart {
    uint64_t offset = 0;
    uint64_t size_hint = 0;   // the plain file's size as last seen, if known (lost bytes)
    std::string supersedes;   // the checkpoint it continues, dropped once it is read
    const char* why = "";
    bool own = false;         // its own checkpoint: nothing to record at the start
    Tail* parked = nullptr;   // a parked generation whose plain file was compressed away
  };
  // *matched: a checkpoint of another file starts with `head` (whether or not it was chosen).
  std::optional<CompressedStart> compressed_start(const std::string& key, const std::string& owner,
                                                  const std::string& head, bool* defer,
                                                  bool* matched);
  bool plain_file_holds(const std::string& owner, const std::string& head);
  bool holds_checkpoint(const std::string& key, const Position& pos);
  void compressed_done(Tail& t);
  void hand_over(Tail& parked);
  void expire_orphans();
  // The memory budget's followed_files part: kFollowedFileBytes per file kept.
  void charge_files();
  void register_tail(std::unique_ptr<Tail> t, uint64_t offset, bool record_start, const char* why);
  void publish_new_lags();
  void note_present(const std::string& path);
  // Active path -> the file followed there; each key views that Tail's path (one copy of each
  // path: 10,000 containers' log paths).
  using PathMap = std::map<std::string_view, Tail*, std::less<>>;
  PathMap::iterator judge_path(PathMap::iterator it);
  void follow_path(Tail& t, const std::string& path);
  void unfollow_path(Tail& t);
  void rename(Tail& t, const std::string& path);
  bool has_own_checkpoint(const std::string& key, const std::string& path);
  bool copy_of_active(const std::string& owner, const std::string& path);
  std::optional<uint64_t> copy_made_while_stopped(const std::string& owner,
                                                  const std::string& path);
  Tail* open_tail(const std::string& path, const std::string& owner, bool initial,
                  std::optional<uint64_t> start);
  void update_fingerprint(Tail& t);
  void wake(Tail& t);
  void give_head(Tail& t);
  void sleep(Tail& t);
  bool starts_with(Tail& t, const std::string& head);
  // `always`: even when size and mtime are what they were at the last check.
  void verify_fingerprint(Tail& t, bool always);
  void queue(Tail& t);
  void tend(Tail& t);
  void unqueue(Tail& t);
  void mark_gone(Tail& t);
  void truncated(Tail& t, const char* why);
  bool make_room();
  void park(Tail& t);
  bool unpark(Tail& t, bool* full);
  void reopen(Tail& t);
  void forget_deleted_parked();
  bool read_file(Tail& t);
  bool emit(Tail& t, BatchPtr batch, bool force);

  const TailerOptions o_;
  InputContext& ctx_;
  TailerClient& client_;
  // By key; each map key views its Tail's own (one copy of 10,000 keys).
  std::map<std::string_view, std::unique_ptr<Tail>, std::less<>> tails_;
  std::map<std::string, Tail*> open_;                    // the tails holding a descriptor
  PathMap by_path_;
  // What the current scan saw, in memory of its own (released when the scan ends): the 10,000
  // paths and keys a scan notes go together instead of leaving holes between the containers'
  // and files' lasting state made during the same scan. Declared before what uses it.
  struct ViewLess {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a < b; }
  };
  std::pmr::monotonic_buffer_resource scan_mem_{std::size_t{128} << 10};
  void forget_scan();
  // The scan saw the file `key` at `path` (present_keys_, present_files_).
  void note_file(const std::string& key, const std::string& path);
  std::pmr::map<std::pmr::string, std::pmr::string, ViewLess> present_paths_{&scan_mem_};   // active path -> owner
  std::deque<std::unique_ptr<Tail>> closing_;
  std::map<std::string, Retired> closing_keys_;   // released files (closing_): as released
  std::map<std::string, Retired> retired_;       // released rotated files still on disk
  // Compressed generations whose plain file was being read when they were judged: never read
  // from their start (owner_since_start), even once that file and its checkpoint are gone.
  std::set<std::string> held_gz_;
  std::set<std::string> retired_missed_;         // retired files the last scan did not see
  std::pmr::set<std::pmr::string, ViewLess> present_keys_{&scan_mem_};   // files seen by the current scan
  std::pmr::map<std::pmr::string, std::pmr::string, ViewLess> present_files_{&scan_mem_};   // key -> a path of it
  std::vector<Orphan> orphans_;
  bool partial_ = false;                         // the current scan is of scanned_dirs_ only
  std::vector<std::string> scanned_dirs_;        // "<dir>/"
  std::set<std::string, std::less<>> unlisted_dirs_;   // "<dir>/" the current scan did not list
  bool scanned_once_ = false;
  bool over_budget_ = false;                     // the last scan left files unopened
  bool aborted_ = false;
  std::size_t max_open_ = 0;
  uint64_t round_ = 0;                           // read rounds so far
  Tail* reading_ = nullptr;                      // the file read_round is reading: not parked
  // The files that may have data (Tail::queued), read in this order; reused, never shrunk.
  std::vector<Tail*> ready_;
  std::vector<Tail*> round_list_;
  // The files housekeeping looks at (Tail::tended): the others are quiet.
  std::vector<Tail*> tending_;
  std::vector<Tail*> unpublished_;   // registered, lag series not made yet (publish_new_lags)
  bool deferring_ = false;   // this round left files waiting for max_awake: quiet ones sleep
  std::size_t parked_ = 0;
  std::vector<char> buf_;
  MemoryCharge buf_mem_{MemoryPart::kReadBuffers};
  MemoryCharge files_mem_{MemoryPart::kFollowedFiles};   // kFollowedFileBytes per file
  std::atomic<int64_t>* parked_metric_ = nullptr;
  std::atomic<uint64_t>* idle_closed_metric_ = nullptr;
  std::atomic<uint64_t>* complete_scans_metric_ = nullptr;
  std::atomic<uint64_t>* partial_scans_metric_ = nullptr;
  uint64_t idle_closed_ = 0;
  uint64_t slept_ = 0;
  uint64_t idle_closed_published_ = 0;
  std::atomic<uint64_t>* fs_errors_metric_ = nullptr;
  std::atomic<uint64_t>* lost_bytes_metric_ = nullptr;
  std::atomic<uint64_t>* compressed_read_metric_ = nullptr;
  std::atomic<uint64_t>* compressed_failed_metric_ = nullptr;
  const ComponentLog log_;   // component= is the input's kind: docker, cri or file
  log::RateLimit open_limit_{5, std::chrono::seconds(60)};
};

}  // namespace logship::tail
