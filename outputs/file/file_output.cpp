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
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"
#include "outputs/common/document_encoder.h"
#include "outputs/file/archiver.h"
#include "daemon/core/field_template.h"

namespace logship::plugins {
namespace {

namespace fs = std::filesystem;
using config::ByteSize;
using config::Millis;

struct FileOptions : doc::DocumentOptions {
  FileOptions() : DocumentOptions("logship") {}

  std::string path = "/var/log/logship/{container_name}/%Y-%m-%d.log";
  std::string format = "json";
  ByteSize max_size = config::operator""_MiB(100);
  Millis max_age{86400000};
  Millis idle_close{300000};
  bool compress = true;
  int64_t compression_level = 1;
  int64_t keep_files = 10;
  ByteSize keep_bytes{0};
  Millis keep_age{0};
  std::string sync = "none";
  Millis sync_interval{1000};

  static const config::OptionSchema<FileOptions>& schema() {
    using S = config::OptionSchema<FileOptions>;
    static const auto s = [] {
      S s;
      s.add("path", &FileOptions::path,
                "Path template: {field} takes a source tag (container_name, container_id, image, "
                "...) or event field, %Y %m %d %H the event's UTC time. Values are made "
                "file-name safe.")
            .add("format", &FileOptions::format, "json: one JSON object per line; raw: the message.",
                 config::one_of({"json", "raw"}))
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
                 "of logship, not of the machine); batch = after fsync of every write; interval = "
                 "after the next periodic fsync.",
                 config::one_of({"none", "batch", "interval"}))
            .add("sync_interval", &FileOptions::sync_interval, "fsync period for sync: interval.",
                 config::at_least(Millis(1), "1ms"));
      doc::add_document_options(s);
      return s;
    }();
    return s;
  }
  std::string validate() const {
    if (path.empty()) return "path must not be empty";
    if (path.back() == '/') return "path must name a file, not a directory";
    return "";
  }
};

enum class SyncPolicy { kNone, kBatch, kInterval };

// One active file: its descriptor, size, and the bytes pending for it in this delivery.
struct Segment {
  std::string path;
  int fd = -1;
  uint64_t size = 0;
  uint64_t size_before_delivery = 0;
  TimePoint opened{};
  TimePoint last_write{};
  std::string pending;
  bool dirty = false;    // written since the last fsync
};

class FileOutput final : public Output {
 public:
  explicit FileOutput(const FileOptions& o)
      : o_(o),
        template_(o.path),
        raw_(o.format == "raw"),
        sync_(o.sync == "batch"      ? SyncPolicy::kBatch
              : o.sync == "interval" ? SyncPolicy::kInterval
                                     : SyncPolicy::kNone),
        archiver_(o.compress, static_cast<int>(o.compression_level),
                  RetentionPolicy{o.keep_files, o.keep_bytes.bytes, o.keep_age}) {}

  ~FileOutput() override { close_all(false); }

  Status start(OutputContext& ctx) override {
    name_ = ctx.name();
    document_.emplace(o_, process_host_identity());
    torn_ = &Metrics::global().counter("logship_file_torn_lines_removed_total", "",
                                       "Partial lines cut from active files after a crash");
    rotations_ = &Metrics::global().counter("logship_file_rotations_total", "",
                                            "Active files rotated");
    next_sync_ = SteadyClock::now() + o_.sync_interval;
    return Status::ok();
  }

  int max_in_flight() const override { return sync_ == SyncPolicy::kInterval ? 64 : 1; }

  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    const TimePoint now = SteadyClock::now();
    touched_.clear();
    std::string path;
    for (const auto& b : batches) {
      const SourceInfo& src = b->source();
      if (!raw_) document_->begin_source(src);
      Segment* seg = nullptr;
      int64_t seg_second = INT64_MIN;
      for (const Event& e : b->events()) {
        // The path changes only with event fields or the time's second; reuse it otherwise.
        int64_t sec = e.time_ns / 1000000000;
        if (seg == nullptr || template_.has_event_fields() ||
            (template_.has_time() && sec != seg_second)) {
          path.clear();
          template_.render(e, src, &path);
          seg = segment_for(path, now);
          if (seg == nullptr) {
            rollback();
            done(DeliveryResult::retry("cannot open " + path));
            return;
          }
          seg_second = sec;
        }
        if (raw_) {
          seg->pending.append(e.message);
        } else {
          document_->append(seg->pending, e);
        }
        seg->pending.push_back('\n');
        if (seg->size + seg->pending.size() >= o_.max_size.bytes) {
          if (!write_pending(*seg)) {
            rollback();
            done(DeliveryResult::retry("write " + seg->path + " failed"));
            return;
          }
          rotate(*seg, now);
        }
      }
    }
    for (Segment* seg : touched_) {
      if (!write_pending(*seg)) {
        rollback();
        done(DeliveryResult::retry("write " + seg->path + " failed"));
        return;
      }
      seg->last_write = now;
      if (sync_ == SyncPolicy::kBatch && ::fsync(seg->fd) != 0) {
        rollback();
        done(DeliveryResult::retry("fsync " + seg->path + " failed"));
        return;
      }
    }
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
        rotate(seg, now);
        ++it;
      } else if (idle && (sync_ != SyncPolicy::kInterval || waiting_.empty())) {
        // A time-named file of a past period will not be written again: archive it now.
        if (template_.has_time() && seg.size > 0 && !path_is_current(seg.path)) {
          rotate(seg, now);
        }
        close_segment(seg);
        it = segments_.erase(it);
      } else {
        ++it;
      }
    }
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

  Segment* segment_for(const std::string& path, TimePoint now) {
    auto it = segments_.find(path);
    Segment* seg;
    if (it == segments_.end()) {
      auto fresh = std::make_unique<Segment>();
      fresh->path = path;
      if (!open_segment(*fresh, now)) return nullptr;
      seg = fresh.get();
      segments_.emplace(path, std::move(fresh));
    } else {
      seg = it->second.get();
      if (seg->fd < 0 && !open_segment(*seg, now)) return nullptr;
    }
    if (seg->pending.empty()) {
      bool listed = false;
      for (Segment* t : touched_) listed = listed || t == seg;
      if (!listed) {
        seg->size_before_delivery = seg->size;
        touched_.push_back(seg);
      }
    }
    return seg;
  }

  bool open_segment(Segment& seg, TimePoint now) {
    fs::path p(seg.path);
    if (!make_dirs(p.parent_path().string()).is_ok()) {
      log_error("cannot create directory", p.parent_path().string(), errno);
      return false;
    }
    if (!recovered_.count(seg.path)) {
      recover(seg.path);
      recovered_.insert(seg.path);
    }
    seg.fd = ::open(seg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (seg.fd < 0) {
      log_error("cannot open file", seg.path, errno);
      return false;
    }
    struct stat st{};
    ::fstat(seg.fd, &st);
    seg.size = static_cast<uint64_t>(st.st_size);
    seg.opened = now;
    seg.last_write = now;
    return true;
  }

  // After a crash: cut a torn last line from the active file, compress closed segments that
  // were never compressed, and remove half-written archives.
  void recover(const std::string& active) {
    int fd = ::open(active.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st{};
      ::fstat(fd, &st);
      off_t size = st.st_size;
      if (size > 0) {
        char last = 0;
        ::pread(fd, &last, 1, size - 1);
        if (last != '\n') {
          // Scan back for the last newline in 64 KiB steps.
          off_t keep = 0;
          std::vector<char> buf(65536);
          off_t end = size;
          while (end > 0) {
            off_t start = end > static_cast<off_t>(buf.size()) ? end - static_cast<off_t>(buf.size()) : 0;
            ssize_t n = ::pread(fd, buf.data(), static_cast<std::size_t>(end - start), start);
            if (n <= 0) break;
            bool found = false;
            for (ssize_t i = n - 1; i >= 0; --i) {
              if (buf[static_cast<std::size_t>(i)] == '\n') {
                keep = start + i + 1;
                found = true;
                break;
              }
            }
            if (found) break;
            end = start;
          }
          if (::ftruncate(fd, keep) == 0) {
            torn_->fetch_add(1);
            log::warn("file", "removed a torn last line left by a crash",
                      log::kv("path", active) + log::kv("bytes", static_cast<int64_t>(size - keep)));
          }
        }
      }
      ::close(fd);
    }
    fs::path p(active);
    const std::string prefix = p.filename().string() + ".";
    std::error_code ec;
    std::vector<std::string> closed;
    for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
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
        log_error("write failed", seg.path, errno);
        return false;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
      seg.size += static_cast<uint64_t>(n);
    }
    if (!seg.pending.empty()) seg.dirty = true;
    seg.pending.clear();
    return true;
  }

  // A failed delivery is retried whole: cut what this delivery already wrote so the retry does
  // not duplicate it.
  void rollback() {
    for (Segment* seg : touched_) {
      seg->pending.clear();
      if (seg->fd >= 0 && seg->size > seg->size_before_delivery) {
        if (::ftruncate(seg->fd, static_cast<off_t>(seg->size_before_delivery)) == 0) {
          seg->size = seg->size_before_delivery;
        }
      }
    }
    touched_.clear();
  }

  void rotate(Segment& seg, TimePoint now) {
    if (seg.size == 0) return;
    if (seg.dirty) ::fdatasync(seg.fd);
    ::close(seg.fd);
    seg.fd = -1;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, ".%020lld", static_cast<long long>(wall_now_ns()));
    std::string closed = seg.path + stamp;
    if (::rename(seg.path.c_str(), closed.c_str()) != 0) {
      log_error("rotate failed", seg.path, errno);
    } else {
      rotations_->fetch_add(1);
      archiver_.submit(closed, seg.path);
    }
    // The retry-rollback point moves to the new file.
    seg.size = 0;
    seg.size_before_delivery = 0;
    seg.dirty = false;
    if (!open_segment(seg, now)) seg.fd = -1;
  }

  void close_segment(Segment& seg) {
    if (seg.fd >= 0) {
      if (seg.dirty) ::fdatasync(seg.fd);
      ::close(seg.fd);
      seg.fd = -1;
    }
  }

  void sync_all() {
    for (auto& [path, seg] : segments_) {
      if (seg->fd >= 0 && seg->dirty) {
        ::fdatasync(seg->fd);
        seg->dirty = false;
      }
    }
    for (auto& d : waiting_) d(DeliveryResult::delivered());
    waiting_.clear();
  }

  void close_all(bool release_waiting) {
    if (release_waiting) sync_all();
    for (auto& [path, seg] : segments_) close_segment(*seg);
    segments_.clear();
  }

  void log_error(std::string_view what, const std::string& path, int err) {
    uint64_t suppressed = 0;
    if (error_log_.allow(&suppressed)) {
      log::error("file", what,
                 log::kv("output", name_) + log::kv("path", path) +
                     log::kv("error", std::strerror(err)) +
                     log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
  }

  const FileOptions o_;
  const FieldTemplate template_;
  const bool raw_;
  const SyncPolicy sync_;
  Archiver archiver_;
  std::string name_;
  std::unordered_map<std::string, std::unique_ptr<Segment>> segments_;
  std::set<std::string> recovered_;
  std::vector<Segment*> touched_;
  std::vector<DeliverDone> waiting_;
  std::optional<doc::DocumentEncoder> document_;   // made in start(): it needs the host
  TimePoint next_sync_{};
  log::RateLimit error_log_;
  std::atomic<uint64_t>* torn_ = nullptr;
  std::atomic<uint64_t>* rotations_ = nullptr;
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
