// Writes events to local files: path templated from event fields and time, JSON lines or raw
// messages, rotation by size and age, gzip of closed segments and retention off the write path,
// and a sync policy that decides when acks are released.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "daemon/core/host_identity.h"
#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/state/atomic_file.h"
#include "outputs/common/document_encoder.h"
#include "outputs/common/record_format.h"
#include "outputs/file/archiver.h"
#include "outputs/file/output_file.h"
#include "daemon/core/field_template.h"

namespace logship::plugins {
namespace {

namespace fs = std::filesystem;
using config::ByteSize;
using config::Millis;

// When a write is acknowledged (the `sync` option).
enum class SyncPolicy { kNone, kBatch, kInterval };
constexpr config::EnumNames<SyncPolicy, 3> enum_names(SyncPolicy) {
  return {{{"none", SyncPolicy::kNone},
           {"batch", SyncPolicy::kBatch},
           {"interval", SyncPolicy::kInterval}}};
}

struct FileOptions : doc::DocumentOptions {
  FileOptions() : DocumentOptions("logship") {}

  std::string path = "/var/log/logship/{container_name}/%Y-%m-%d.log";
  RecordFormat format = RecordFormat::kJson;
  ByteSize max_size = config::operator""_MiB(100);
  Millis max_age{86400000};
  Millis idle_close{300000};
  bool compress = true;
  int64_t compression_level = 1;
  int64_t keep_files = 10;
  ByteSize keep_bytes{0};
  Millis keep_age{0};
  SyncPolicy sync = SyncPolicy::kNone;
  Millis sync_interval{1000};
  int64_t max_open_files = 64;

  static const config::OptionSchema<FileOptions>& schema() {
    using S = config::OptionSchema<FileOptions>;
    static const auto s = [] {
      S s;
      s.add("path", &FileOptions::path,
                "Path template: {field} takes a source tag (container_name, container_id, image, "
                "...) or event field, %Y %m %d %H the event's UTC time. Values are made "
                "file-name safe: only [A-Za-z0-9._-] kept (others, '/' and NUL become '_'), no "
                "leading dot, at most 200 bytes (longer ones end in a hash of the whole value). "
                "The file itself is never a symbolic link. Events whose path can never be a "
                "regular file (name too long; a directory, FIFO or symlink in the way) are "
                "dead-lettered with the reason; the others go on. Other errors (the output "
                "directory missing or replaced, disk full, EMFILE) are retried.")
            .add("format", &FileOptions::format, "json: one JSON object per line; raw: the message.")
            .add("max_size", &FileOptions::max_size, "Rotate the active file at this size.",
                 config::at_least(ByteSize(1024), "1KiB"))
            .add("max_age", &FileOptions::max_age, "Rotate the active file at this age; 0 = never.")
            .add("idle_close", &FileOptions::idle_close,
                 "Close files not written for this long (time-named files of a past period are "
                 "rotated and archived then).")
            .add("compress", &FileOptions::compress, "gzip closed segments.")
            .add("compression_level", &FileOptions::compression_level,
                 "gzip level: 1 fastest, 9 smallest.", config::in_range(1, 9))
            .add("keep_files", &FileOptions::keep_files,
                 "Archives kept per file; the oldest beyond this are deleted. 0 = no limit.",
                 config::in_range(0, 1000000))
            .add("keep_bytes", &FileOptions::keep_bytes,
                 "Total archive bytes kept per file; 0 = no limit.")
            .add("keep_age", &FileOptions::keep_age, "Delete archives older than this; 0 = never.")
            .add("sync", &FileOptions::sync,
                 "When data is acknowledged: none = once written to the kernel (survives a crash "
                 "of logship, not of the machine); batch = after fdatasync of every write; "
                 "interval = after the next periodic fdatasync. A failed fdatasync is never "
                 "acknowledged: what it covered is cut and written again.")
            .add("sync_interval", &FileOptions::sync_interval, "fsync period for sync: interval.",
                 config::at_least(Millis(1), "1ms"))
            .add("max_open_files", &FileOptions::max_open_files,
                 "Files kept open at once (one per distinct rendered path); past this the file "
                 "written least recently is closed, and reopened when written again.",
                 config::in_range(1, 65536));
      doc::add_document_options(s);
      return s;
    }();
    return s;
  }
  Status validate() const {
    if (path.empty()) return Status::invalid("path must not be empty");
    if (path.back() == '/') return Status::invalid("path must name a file, not a directory");
    return Status::ok();
  }
};

// Encoded bytes a segment gathers before writing them: bounds a delivery's memory per file.
constexpr std::size_t kWriteChunk = 256 << 10;

// One active file: its descriptor, size, and the bytes pending for it in this delivery.
struct Segment {
  std::string path;
  int fd = -1;
  uint64_t size = 0;
  uint64_t size_before_delivery = 0;   // where a failed delivery cuts the file back to
  uint64_t synced_size = 0;            // bytes a successful fdatasync made durable
  TimePoint opened{};
  TimePoint last_write{};
  std::string pending;
  bool dirty = false;     // written since the last fdatasync
  bool touched = false;   // written by the delivery under way
};

// A rotation made by the delivery under way. Its archive goes to the archiver only when the
// delivery succeeds; a failed delivery puts the archive back, so a retry rotates again instead
// of leaving one more copy of the same lines per attempt.
struct DeliveryRotation {
  Segment* seg;
  std::string archive;
  uint64_t size_before;   // the segment's size_before_delivery when it was rotated
};

// An event whose path can never be a regular file: dead-lettered once the rest is written.
struct PoisonEvent {
  const Event* event;
  const SourceInfo* source;
  PermanentError why;
  std::size_t detail;   // index into poison_details_
};

class FileOutput final : public Output {
 public:
  explicit FileOutput(const FileOptions& o)
      : o_(o),
        template_(o.path),
        raw_(o.format == RecordFormat::kRaw),
        sync_(o.sync),
        archiver_(o.compress, static_cast<int>(o.compression_level),
                  RetentionPolicy{o.keep_files, o.keep_bytes.bytes, o.keep_age}) {}

  ~FileOutput() override { close_all(false); }

  Status start(OutputContext& ctx) override {
    ctx_ = &ctx;
    name_ = ctx.name();
    const PluginContext plugin{PluginKind::kOutput, name_, "file"};
    log_ = ComponentLog(plugin);
    document_.emplace(o_, process_host_identity());
    const ComponentMetrics metrics(plugin);
    torn_ = &metrics.counter("logship_file_torn_lines_removed_total",
                             "Partial lines cut from active files after a crash");
    rotations_ = &metrics.counter("logship_file_rotations_total", "Active files rotated");
    archiver_.report_to(log_, &metrics.counter("logship_file_archives_removed_total",
                                               "Archives deleted by the retention policy"));
    sync_failures_ = &metrics.counter(
        "logship_file_sync_failures_total",
        "fdatasync calls that failed; the data they covered was not acknowledged");
    next_sync_ = SteadyClock::now() + o_.sync_interval;
    return Status::ok();
  }

  int max_in_flight() const override { return sync_ == SyncPolicy::kInterval ? 64 : 1; }

  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    const TimePoint now = SteadyClock::now();
    for (const auto& b : batches) {
      const SourceInfo& src = b->source();
      if (!raw_) document_->begin_source(src);
      Segment* seg = nullptr;
      bool rendered = false;
      int64_t seg_second = INT64_MIN;
      std::optional<PermanentError> poisoned;   // the rendered path can never be written
      for (const Event& e : b->events()) {
        // The path changes only with event fields or the time's second; reuse it otherwise.
        int64_t sec = e.time_ns / 1000000000;
        if (!rendered || template_.has_event_fields() ||
            (template_.has_time() && sec != seg_second)) {
          path_.clear();
          template_.render(e, src, &path_);
          rendered = true;
          seg_second = sec;
          OpenFailure why;
          seg = segment_for(path_, now, &why);
          poisoned = seg == nullptr ? why.permanent : std::nullopt;
          if (seg == nullptr && !poisoned) return fail_delivery(std::move(done), why.what);
          if (poisoned && (poison_details_.empty() || poison_details_.back() != why.what)) {
            poison_details_.push_back(std::move(why.what));
          }
        }
        if (poisoned) {
          poison_.push_back({&e, &src, *poisoned, poison_details_.size() - 1});
          continue;
        }
        if (raw_) {
          seg->pending.append(e.message);
        } else {
          document_->append(seg->pending, e);
        }
        seg->pending.push_back('\n');
        // Written in pieces, so a delivery's encoded copy never adds up in memory (a failed
        // delivery cuts the file back whatever was written).
        if (seg->pending.size() >= kWriteChunk && seg->size + seg->pending.size() < o_.max_size.bytes) {
          if (!write_pending(*seg)) {
            return fail_delivery(std::move(done), "write " + seg->path + " failed");
          }
        }
        if (seg->size + seg->pending.size() >= o_.max_size.bytes) {
          if (!write_pending(*seg)) {
            return fail_delivery(std::move(done), "write " + seg->path + " failed");
          }
          if (!rotate(*seg, now, /*in_delivery=*/true)) {
            return fail_delivery(std::move(done), "rotate " + seg->path + " failed");
          }
        }
      }
    }
    for (Segment* seg : touched_) {
      if (!write_pending(*seg)) return fail_delivery(std::move(done), "write " + seg->path + " failed");
      seg->last_write = now;
      if (sync_ == SyncPolicy::kBatch && !sync_segment(*seg)) {
        return fail_delivery(std::move(done), "fdatasync " + seg->path + " failed");
      }
    }
    if (sync_failed_in_delivery_) {
      return fail_delivery(std::move(done), "fdatasync failed; written again");
    }
    // Everything writable is written: settle the events that never will be.
    for (const PoisonEvent& p : poison_) {
      Status s = ctx_->dead_letter(*p.event, *p.source, p.why, poison_details_[p.detail]);
      if (!s.is_ok()) return fail_delivery(std::move(done), s.message());
    }
    end_delivery(/*succeeded=*/true);
    if (sync_ == SyncPolicy::kInterval) {
      waiting_.push_back(std::move(done));
      return;
    }
    done(DeliveryResult::delivered());
  }

  void tick(TimePoint now) override {
    if (sync_ == SyncPolicy::kInterval && now >= next_sync_) {
      next_sync_ = now + o_.sync_interval;
      sync_all();
    }
    for (auto it = segments_.begin(); it != segments_.end();) {
      Segment& seg = *it->second;
      bool aged = o_.max_age.count() > 0 && seg.size > 0 && now - seg.opened >= o_.max_age;
      bool idle = now - seg.last_write >= o_.idle_close;
      if (aged) {
        (void)rotate(seg, now, /*in_delivery=*/false);   // a failure is logged; tried next tick
        ++it;
      } else if (idle && (sync_ != SyncPolicy::kInterval || waiting_.empty())) {
        // A time-named file of a past period will not be written again: archive it now.
        if (template_.has_time() && seg.size > 0 && !path_is_current(seg.path)) {
          (void)rotate(seg, now, /*in_delivery=*/false);
        }
        close_segment(seg);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
    // A delivery that wrote more paths than the cap kept them open until now.
    close_least_recently_written(static_cast<std::size_t>(o_.max_open_files));
  }

  void stop() override {
    close_all(true);
    archiver_.stop(SteadyClock::now() + std::chrono::seconds(5));
  }

 private:
  bool path_is_current(const std::string& path) {
    // Re-render with the current time and the same fields: equal means still current. Only the
    // time part can differ for a segment created from the same source, so compare the prefix
    // up to the first differing byte against a render at "now".
    Event probe(std::pmr::get_default_resource());
    probe.time_ns = wall_now_ns();
    SourceInfo empty;
    std::string now_path;
    template_.render(probe, empty, &now_path);
    // Fields render as "unknown" here; compare only when the template has no fields.
    return template_.has_event_fields() || now_path == path;
  }

  // The open segment for `path`, listed as touched by this delivery; nullptr with *why set when
  // the file cannot be opened.
  Segment* segment_for(const std::string& path, TimePoint now, OpenFailure* why) {
    if (last_poison_ && last_poison_->first == path) {
      // The same bad path again (event fields or the time in the template): no second attempt.
      why->permanent = last_poison_->second.permanent;
      why->what = last_poison_->second.what;
      return nullptr;
    }
    auto it = segments_.find(path);
    Segment* seg;
    if (it == segments_.end()) {
      auto fresh = std::make_unique<Segment>();
      fresh->path = path;
      if (!open_segment(*fresh, now, why)) return remember_failure(path, *why);
      seg = fresh.get();
      segments_.emplace(path, std::move(fresh));
    } else {
      seg = it->second.get();
      if (seg->fd < 0 && !open_segment(*seg, now, why)) return remember_failure(path, *why);
    }
    if (!seg->touched) {
      seg->touched = true;
      seg->size_before_delivery = seg->size;
      touched_.push_back(seg);
    }
    return seg;
  }

  Segment* remember_failure(const std::string& path, const OpenFailure& why) {
    log_error(why.permanent ? "cannot write this path; its events are dead-lettered"
                            : "cannot open the output file; will retry",
              path, why.what);
    if (why.permanent) last_poison_.emplace(path, why);
    return nullptr;
  }

  bool open_segment(Segment& seg, TimePoint now, OpenFailure* why) {
    close_least_recently_written(static_cast<std::size_t>(o_.max_open_files) - 1);
    if (!make_parent_dirs(seg.path, why)) return false;
    uint64_t size = 0;
    int fd = open_output_file(seg.path, &size, why);
    if (fd < 0) return false;
    if (!recovered_.count(seg.path)) {
      // After a crash: cut a torn last line (through this fd: never through a link), compress
      // closed segments that were never compressed and remove half-written archives.
      Result<uint64_t> cut = cut_torn_line(fd, size);
      if (!cut.is_ok()) {
        ::close(fd);
        why->permanent = std::nullopt;
        why->what = seg.path + ": " + cut.status().message();
        return false;
      }
      if (cut.value() > 0) {
        torn_->fetch_add(1);
        size -= cut.value();
        log_.warn("removed a torn last line left by a crash",
                  log::kv("path", seg.path) +
                      log::kv("bytes", static_cast<int64_t>(cut.value())));
      }
      recover_archives(seg.path);
      recovered_.insert(seg.path);
    }
    seg.fd = fd;
    seg.size = size;
    seg.synced_size = size;
    seg.dirty = false;
    seg.opened = now;
    seg.last_write = now;
    return true;
  }

  // At most max_open_files descriptors: before opening one more, and at each tick, the
  // segments written least recently are closed (and forgotten: reopened when written again)
  // until `keep` are open. Segments of the delivery under way stay open, so one delivery that
  // writes more paths than the cap goes over it until the next tick.
  void close_least_recently_written(std::size_t keep) {
    std::size_t open = 0;
    for (const auto& [path, seg] : segments_) open += seg->fd >= 0 ? 1 : 0;
    while (open > keep) {
      auto lru = segments_.end();
      for (auto it = segments_.begin(); it != segments_.end(); ++it) {
        const Segment& s = *it->second;
        if (s.fd < 0 || s.touched) continue;
        if (lru == segments_.end() || s.last_write < lru->second->last_write) lru = it;
      }
      if (lru == segments_.end()) return;
      close_segment(*lru->second);
      segments_.erase(lru);
      --open;
    }
  }

  void recover_archives(const std::string& active) {
    fs::path p(active);
    const std::string prefix = p.filename().string() + ".";
    std::error_code ec;
    std::vector<std::string> closed;
    for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      // Only our own segments: a symlink or anything else planted here is left alone.
      std::error_code type_ec;
      if (entry.symlink_status(type_ec).type() != fs::file_type::regular) continue;
      if (name.size() > 7 && name.compare(name.size() - 7, 7, ".gz.tmp") == 0) {
        ::unlink(entry.path().c_str());
      } else if (o_.compress && name.compare(name.size() - 3, 3, ".gz") != 0) {
        closed.push_back(entry.path().string());
      }
    }
    for (auto& c : closed) archiver_.submit(std::move(c), active);
  }

  bool write_pending(Segment& seg) {
    const char* data = seg.pending.data();
    std::size_t left = seg.pending.size();
    while (left > 0) {
      ssize_t n = ::write(seg.fd, data, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        log_errno("write failed", seg.path, errno);
        return false;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
      seg.size += static_cast<uint64_t>(n);
    }
    if (!seg.pending.empty()) seg.dirty = true;
    seg.pending.clear();
    if (seg.pending.capacity() > 2 * kWriteChunk) std::string().swap(seg.pending);   // a giant line
    return true;
  }

  // A failed delivery is retried whole: undo what it did (rotations, bytes written) so the
  // retry neither duplicates lines nor leaves extra archives, and dead-letter nothing yet.
  void fail_delivery(DeliverDone done, std::string why) {
    for (auto it = rotations_in_delivery_.rbegin(); it != rotations_in_delivery_.rend(); ++it) {
      undo_rotation(*it);
    }
    rotations_in_delivery_.clear();
    const TimePoint now = SteadyClock::now();
    for (Segment* seg : touched_) {
      seg->pending.clear();
      OpenFailure ignored;
      if (seg->fd < 0 && !open_segment(*seg, now, &ignored)) continue;   // reopened lazily
      if (seg->size > seg->size_before_delivery) {
        if (::ftruncate(seg->fd, static_cast<off_t>(seg->size_before_delivery)) == 0) {
          seg->size = seg->size_before_delivery;
          seg->synced_size = std::min(seg->synced_size, seg->size);
        } else {
          log_errno("cannot cut back a failed delivery; its lines may repeat", seg->path, errno);
        }
      }
    }
    end_delivery(/*succeeded=*/false);
    done(DeliveryResult::retry(std::move(why)));
  }

  // Puts a rotation of the failed delivery back: the file it started holds only bytes of this
  // delivery, so it is removed and the archive becomes the active file again.
  void undo_rotation(const DeliveryRotation& r) {
    Segment& seg = *r.seg;
    if (seg.fd >= 0) {
      ::close(seg.fd);   // its bytes are being thrown away: nothing to sync
      seg.fd = -1;
    }
    bool undone = ::unlink(seg.path.c_str()) == 0 || errno == ENOENT;
    undone = undone && ::rename(r.archive.c_str(), seg.path.c_str()) == 0;
    if (!undone) {
      // Kept as an archive: the retry writes these lines again (repeated, never lost).
      log_errno("cannot undo a rotation; its archive is kept", r.archive, errno);
      archiver_.submit(r.archive, seg.path);
      seg.size_before_delivery = 0;
      return;
    }
    seg.size_before_delivery = r.size_before;
  }

  void end_delivery(bool succeeded) {
    for (DeliveryRotation& r : rotations_in_delivery_) {
      if (!succeeded) continue;
      rotations_->fetch_add(1);
      archiver_.submit(std::move(r.archive), r.seg->path);
    }
    rotations_in_delivery_.clear();
    for (Segment* seg : touched_) seg->touched = false;
    touched_.clear();
    sync_failed_in_delivery_ = false;
    poison_.clear();
    poison_details_.clear();
    last_poison_.reset();
  }

  // Makes what was written durable. A failure is never acknowledged: with sync: batch the
  // delivery fails and is cut back; with sync: interval every unsynced byte is dropped and the
  // deliveries it belongs to are retried (forget_unsynced_data); with sync: none nothing waited
  // for it, so it is only logged and counted (and a rotation waits).
  bool sync_segment(Segment& seg) {
    if (!seg.dirty) return true;
    if (::fdatasync(seg.fd) == 0) {
      seg.dirty = false;
      seg.synced_size = seg.size;
      return true;
    }
    const int err = errno;
    sync_failures_->fetch_add(1, std::memory_order_relaxed);
    log_errno("fdatasync failed; the data it covered is not acknowledged", seg.path, err);
    if (sync_ == SyncPolicy::kInterval) forget_unsynced_data();
    return false;
  }

  // After a failed fdatasync nothing written since the last good one can be trusted: the
  // kernel may have dropped those pages, and a later fdatasync would report success. Every
  // unsynced byte belongs to a delivery not acknowledged yet (waiting, or under way), so all
  // of them are cut and those deliveries retried: written again, not lost.
  void forget_unsynced_data() {
    for (auto& [path, seg] : segments_) {
      if (seg->fd < 0 || seg->size <= seg->synced_size) continue;
      if (::ftruncate(seg->fd, static_cast<off_t>(seg->synced_size)) == 0) {
        seg->size = seg->synced_size;
        seg->dirty = false;
      } else {
        log_errno("cannot cut back unsynced data; its lines may repeat", seg->path, errno);
      }
      seg->size_before_delivery = std::min(seg->size_before_delivery, seg->size);
    }
    sync_failed_in_delivery_ = true;
    std::vector<DeliverDone> waiting;
    waiting.swap(waiting_);
    for (auto& d : waiting) d(DeliveryResult::retry("fdatasync failed; written again"));
  }

  // Closes the active file as an archive and starts a new one. False when it is not rotated
  // (the fdatasync, the rename or the new file failed).
  bool rotate(Segment& seg, TimePoint now, bool in_delivery) {
    if (seg.size == 0) return true;
    if (!sync_segment(seg)) return false;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, ".%020lld", static_cast<long long>(wall_now_ns()));
    std::string archive = seg.path + stamp;
    if (::rename(seg.path.c_str(), archive.c_str()) != 0) {
      log_errno("rotate failed", seg.path, errno);
      return false;
    }
    ::close(seg.fd);   // synced above; close's own errors say nothing more on Linux
    seg.fd = -1;
    if (in_delivery) {
      rotations_in_delivery_.push_back({&seg, archive, seg.size_before_delivery});
    } else {
      rotations_->fetch_add(1);
      archiver_.submit(archive, seg.path);
    }
    // The retry-rollback point moves to the new file.
    seg.size = 0;
    seg.size_before_delivery = 0;
    seg.synced_size = 0;
    seg.dirty = false;
    OpenFailure why;
    if (!open_segment(seg, now, &why)) {
      log_error("cannot start a new file after rotating", seg.path, why.what);
      return !in_delivery;   // outside a delivery the next write reopens it
    }
    return true;
  }

  void close_segment(Segment& seg) {
    if (seg.fd < 0) return;
    (void)sync_segment(seg);   // a failure is logged, counted and (interval) not acknowledged
    ::close(seg.fd);
    seg.fd = -1;
  }

  void sync_all() {
    for (auto& [path, seg] : segments_) {
      if (seg->fd >= 0) (void)sync_segment(*seg);
    }
    // After a failure the waiting deliveries were retried already and waiting_ is empty.
    for (auto& d : waiting_) d(DeliveryResult::delivered());
    waiting_.clear();
    sync_failed_in_delivery_ = false;
  }

  void close_all(bool release_waiting) {
    if (release_waiting) sync_all();
    for (auto& [path, seg] : segments_) close_segment(*seg);
    segments_.clear();
  }

  void log_errno(std::string_view what, const std::string& path, int err) {
    log_error(what, path, std::strerror(err));
  }

  void log_error(std::string_view what, const std::string& path, std::string_view error) {
    log_.error(error_log_, what, log::kv("path", path) + log::kv("error", error));
  }

  const FileOptions o_;
  const FieldTemplate template_;
  const bool raw_;
  const SyncPolicy sync_;
  Archiver archiver_;
  OutputContext* ctx_ = nullptr;
  std::string name_;
  std::unordered_map<std::string, std::unique_ptr<Segment>> segments_;
  std::set<std::string> recovered_;
  // State of the delivery under way; all of it is emptied when it ends.
  std::vector<Segment*> touched_;
  std::vector<DeliveryRotation> rotations_in_delivery_;
  std::vector<PoisonEvent> poison_;
  std::vector<std::string> poison_details_;
  std::optional<std::pair<std::string, OpenFailure>> last_poison_;
  std::string path_;
  std::vector<DeliverDone> waiting_;
  bool sync_failed_in_delivery_ = false;   // the delivery under way lost unsynced bytes
  std::optional<doc::DocumentEncoder> document_;   // made in start(): it needs the host
  TimePoint next_sync_{};
  ComponentLog log_{PluginContext{PluginKind::kOutput, "", "file"}};   // named at start
  log::RateLimit error_log_;
  std::atomic<uint64_t>* torn_ = nullptr;
  std::atomic<uint64_t>* rotations_ = nullptr;
  std::atomic<uint64_t>* sync_failures_ = nullptr;
};

}  // namespace

const PluginInfo& file_output() {
  static const PluginInfo info{
      PluginKind::kOutput, "file",
      "Local files: templated paths, size/age rotation, gzip archives, retention.",
      &schema_of<FileOptions>, nullptr, nullptr, &bind_output<FileOptions, FileOutput>};
  return info;
}

}  // namespace logship::plugins
