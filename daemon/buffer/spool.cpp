#include "daemon/buffer/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"
#include "daemon/core/crc32c.h"

namespace logship {
namespace {

uint32_t load_le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

void store_le32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
  p[2] = static_cast<char>(v >> 16);
  p[3] = static_cast<char>(v >> 24);
}

uint32_t record_crc(const char* len_bytes, std::string_view payload) {
  return crc32c_extend(crc32c_extend(0, len_bytes, 4), payload.data(), payload.size());
}

void count(std::atomic<uint64_t>* c, uint64_t n) {
  if (c != nullptr) c->fetch_add(n, std::memory_order_relaxed);
}

log::RateLimit g_corrupt_log(5, std::chrono::seconds(10));
log::RateLimit g_drop_log(5, std::chrono::seconds(10));

bool pread_all(int fd, char* p, std::size_t n, uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, const SpoolOptions& o,
                                           uint64_t committed) {
  std::unique_ptr<Spool> s(new Spool(dir, o));
  Status st = s->open_segments(committed);
  if (!st.is_ok()) return st;
  return s;
}

Spool::~Spool() {
  std::lock_guard lock(mu_);
  if (write_fd_ >= 0) {
    (void)flush_locked();
    ::close(write_fd_);
  }
}

std::string segment_file_name(uint64_t base) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(base));
  return name;
}

bool parse_segment_file_name(std::string_view n, uint64_t* base) {
  if (n.size() != 24 || n.substr(20) != ".seg") return false;
  uint64_t b = 0;
  for (char c : n.substr(0, 20)) {
    if (c < '0' || c > '9') return false;
    b = b * 10 + static_cast<uint64_t>(c - '0');
  }
  *base = b;
  return true;
}

bool verify_record(const char* p, uint64_t avail, uint32_t* len) {
  if (avail < kRecordHeader) return false;
  const uint32_t l = load_le32(p);
  if (l > kMaxRecord || l > avail - kRecordHeader) return false;
  if (record_crc(p, std::string_view(p + kRecordHeader, l)) != load_le32(p + 4)) return false;
  *len = l;
  return true;
}

std::string Spool::path_of(uint64_t base) const { return dir_ + "/" + segment_file_name(base); }

Status Spool::open_segments(uint64_t committed) {
  LOGSHIP_TRY(make_dirs(dir_));
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Status::io("opendir " + dir_, errno);
  while (dirent* e = ::readdir(d)) {
    uint64_t base = 0;
    if (!parse_segment_file_name(e->d_name, &base)) continue;
    struct stat st{};
    if (::stat(path_of(base).c_str(), &st) != 0) continue;
    segments_.push_back(Segment{base, static_cast<uint64_t>(st.st_size), 0});
  }
  ::closedir(d);
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) { return a.base < b.base; });
  // A segment can never reach into the next one; if it does, the overlap is not trusted.
  for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
    segments_[i].size = std::min(segments_[i].size, segments_[i + 1].base - segments_[i].base);
  }
  if (segments_.empty()) {
    committed_ = committed;
    return start_segment_locked(committed);
  }
  // The last segment may end in a torn record (crash mid-write): keep the verified prefix.
  Segment& last = segments_.back();
  const std::string path = path_of(last.base);
  write_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (write_fd_ < 0) return Status::io("open " + path, errno);
  uint64_t pos = 0, weight = 0;
  std::string buf;
  char hdr[kRecordHeader];
  auto verifies = [&](uint64_t at) {
    if (at + kRecordHeader > last.size || !pread_all(write_fd_, hdr, kRecordHeader, at)) {
      return false;
    }
    const uint32_t len = load_le32(hdr);
    if (len > kMaxRecord || len > last.size - at - kRecordHeader) return false;
    buf.resize(len);
    return pread_all(write_fd_, buf.data(), len, at + kRecordHeader) &&
           record_crc(hdr, buf) == load_le32(hdr + 4);
  };
  while (pos + kRecordHeader <= last.size) {
    if (!verifies(pos)) {
      // Damage with good records after it is not a torn tail: keep them, readers skip the
      // damage (and count it). Only a bad region that runs to the end is cut.
      uint64_t q = pos + 1;
      while (q + kRecordHeader <= last.size && !verifies(q)) ++q;
      if (q + kRecordHeader > last.size) break;
      pos = q;
    }
    pos += kRecordHeader + buf.size();
    weight += weigh(buf);
  }
  if (pos < last.size) {
    stats_.torn_tail_bytes += last.size - pos;
    stats_.corrupt_regions++;
    count(o_.corrupt_counter, 1);
    log::warn(o_.log_component, "spool segment ends in a torn or corrupt record; cut",
              log::kv("path", path) + log::kv("bytes", static_cast<int64_t>(last.size - pos)));
    if (::ftruncate(write_fd_, static_cast<off_t>(pos)) != 0) {
      return Status::io("truncate " + path, errno);
    }
    last.size = pos;
  }
  last.weight = weight;
  committed_ = std::clamp(committed, segments_.front().base, end_locked());
  trim_retained_locked();
  return Status::ok();
}

Status Spool::start_segment_locked(uint64_t base) {
  const std::string path = path_of(base);
  if (o_.durable && write_fd_ >= 0 && ::fdatasync(write_fd_) != 0) {
    return Status::io("fdatasync " + path_of(segments_.back().base), errno);
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Status::io("create " + path, errno);
  if (o_.durable) {
    Status s = fsync_dir(dir_);
    if (!s.is_ok()) {
      ::close(fd);
      ::unlink(path.c_str());
      return s;
    }
  }
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = fd;
  segments_.push_back(Segment{base, 0, 0});
  return Status::ok();
}

uint64_t Spool::weigh(std::string_view payload) const {
  return o_.weigh ? o_.weigh(payload.substr(0, 16)) : 1;
}

bool Spool::has_room(std::size_t payload_bytes) const {
  std::lock_guard lock(mu_);
  const uint64_t unacked = end_locked() + pending_.size() - committed_;
  return unacked + kRecordHeader + payload_bytes <= o_.max_bytes;
}

Spool::Append Spool::append(std::string_view payload, bool force) {
  std::lock_guard lock(mu_);
  return append_locked(payload, force);
}

Spool::Append Spool::append_now(std::string_view payload, bool force) {
  Append r;
  {
    std::lock_guard lock(mu_);
    r = append_locked(payload, force);
    if (r == Append::kOk && !flush_locked().is_ok()) {
      // flush_locked keeps all it could not write; this record is the last of it.
      pending_.resize(pending_.size() - kRecordHeader - payload.size());
      pending_weight_ -= weigh(payload);
      r = Append::kError;
    }
  }
  if (r == Append::kOk) cv_.notify_all();
  return r;
}

Spool::Append Spool::append_locked(std::string_view payload, bool force) {
  if (payload.size() > kMaxRecord) return Append::kError;
  const std::size_t need = kRecordHeader + payload.size();
  const uint64_t unacked = end_locked() + pending_.size() - committed_;
  // An empty spool takes any record: a line longer than the bound must not hold the FIFO forever.
  if (!force && unacked > 0 && unacked + need > o_.max_bytes) {
    if (o_.when_full == FullPolicy::kBlock) return Append::kFull;
    drop_oldest_locked(need);
  }
  Segment& cur = segments_.back();
  if (cur.size + pending_.size() > 0 && cur.size + pending_.size() + need > o_.segment_bytes) {
    if (!flush_locked().is_ok()) return Append::kError;
    if (!start_segment_locked(end_locked()).is_ok()) return Append::kError;
  }
  char hdr[kRecordHeader];
  store_le32(hdr, static_cast<uint32_t>(payload.size()));
  store_le32(hdr + 4, record_crc(hdr, payload));
  pending_.append(hdr, kRecordHeader);
  pending_.append(payload);
  pending_weight_ += weigh(payload);
  return Append::kOk;
}

Status Spool::flush() {
  Status s;
  {
    std::lock_guard lock(mu_);
    s = flush_locked();
  }
  cv_.notify_all();
  return s;
}

Status Spool::sync() {
  Status s;
  {
    std::lock_guard lock(mu_);
    s = flush_locked();
    if (s.is_ok() && ::fdatasync(write_fd_) != 0) {
      s = Status::io("fdatasync " + path_of(segments_.back().base), errno);
    }
  }
  cv_.notify_all();
  return s;
}

Status Spool::flush_locked() {
  if (pending_.empty()) return Status::ok();
  Segment& cur = segments_.back();
  const char* p = pending_.data();
  std::size_t n = pending_.size();
  uint64_t off = cur.size;
  while (n > 0) {
    ssize_t w = ::pwrite(write_fd_, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      // Keep the spool consistent: what was not fully written is cut and stays buffered.
      int err = errno;
      (void)::ftruncate(write_fd_, static_cast<off_t>(cur.size));
      return Status::io("write " + path_of(cur.base), err);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  cur.size = off;
  cur.weight += pending_weight_;
  pending_.clear();
  pending_weight_ = 0;
  return Status::ok();
}

uint64_t Spool::weigh_records(const Segment& s, uint64_t from) const {
  if (from <= s.base && s.weight > 0) return s.weight;
  // Walk the headers (rare: only when dropping a segment this process did not write, or one
  // partly delivered).
  int fd = ::open(path_of(s.base).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t pos = 0, n = 0;
  char hdr[kRecordHeader + 16];
  while (pos + kRecordHeader <= s.size && pread_all(fd, hdr, kRecordHeader, pos)) {
    const uint32_t len = load_le32(hdr);
    if (s.base + pos >= from) {
      const std::size_t prefix = std::min<std::size_t>(len, 16);
      n += (o_.weigh && pread_all(fd, hdr + kRecordHeader, prefix, pos + kRecordHeader))
               ? weigh(std::string_view(hdr + kRecordHeader, prefix))
               : 1;
    }
    pos += kRecordHeader + len;
  }
  ::close(fd);
  return n;
}

void Spool::drop_oldest_locked(std::size_t need) {
  while (end_locked() + pending_.size() - committed_ + need > o_.max_bytes) {
    // The segment holding the oldest un-acknowledged byte.
    std::size_t i = 0;
    while (i < segments_.size() && segments_[i].base + segments_[i].size <= committed_ &&
           i + 1 < segments_.size()) {
      ++i;
    }
    if (i + 1 >= segments_.size()) {
      // Only the active segment is left: close it so it can go too.
      if (segments_.back().size + pending_.size() == 0) return;
      if (!flush_locked().is_ok()) return;
      if (!start_segment_locked(end_locked()).is_ok()) return;
      continue;
    }
    const uint64_t n = weigh_records(segments_[i], std::max(committed_, read_));
    stats_.dropped_records += n;
    count(o_.dropped_counter, n);
    uint64_t suppressed = 0;
    if (g_drop_log.allow(&suppressed)) {
      log::warn(o_.log_component, "spool full; oldest un-delivered records dropped",
                log::kv("dir", dir_) + log::kv("records", static_cast<int64_t>(n)) +
                    log::kv("suppressed", static_cast<int64_t>(suppressed)));
    }
    // Acknowledged segments before it hold nothing newer; they go too, keeping order simple.
    for (std::size_t k = 0; k <= i; ++k) ::unlink(path_of(segments_[k].base).c_str());
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    committed_ = segments_.front().base;
  }
}

void Spool::trim_retained_locked() {
  uint64_t retained = 0;
  for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
    if (segments_[i].base + segments_[i].size <= committed_) retained += segments_[i].size;
  }
  while (retained > o_.keep_bytes && segments_.size() > 1 &&
         segments_.front().base + segments_.front().size <= committed_) {
    retained -= segments_.front().size;
    ::unlink(path_of(segments_.front().base).c_str());
    segments_.erase(segments_.begin());
  }
}

void Spool::commit(uint64_t offset) {
  std::lock_guard lock(mu_);
  if (offset <= committed_) return;
  committed_ = std::min(offset, end_locked());
  trim_retained_locked();
}

bool Spool::wait(uint64_t cursor, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return end_locked() > cursor; });
}

uint64_t Spool::begin() const {
  std::lock_guard lock(mu_);
  return segments_.front().base;
}
uint64_t Spool::end() const {
  std::lock_guard lock(mu_);
  return end_locked();
}
uint64_t Spool::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}
uint64_t Spool::unacked_bytes() const {
  std::lock_guard lock(mu_);
  return end_locked() + pending_.size() - committed_;
}
uint64_t Spool::disk_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& s : segments_) n += s.size;
  return n;
}
SpoolStats Spool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Spool::locate(uint64_t cursor, SegmentView* out) const {
  std::lock_guard lock(mu_);
  for (const Segment& s : segments_) {
    if (s.base + s.size > cursor) {
      out->base = s.base;
      out->size = s.size;
      out->path = path_of(s.base);
      return true;
    }
  }
  return false;
}

void Spool::note_read(uint64_t cursor) const {
  std::lock_guard lock(mu_);
  read_ = std::max(read_, cursor);
}

void Spool::note_corrupt(uint64_t bytes) const {
  {
    std::lock_guard lock(mu_);
    stats_.corrupt_regions++;
    stats_.corrupt_bytes += bytes;
  }
  count(o_.corrupt_counter, 1);
  uint64_t suppressed = 0;
  if (g_corrupt_log.allow(&suppressed)) {
    log::warn(o_.log_component, "corrupt spool record skipped",
              log::kv("dir", dir_) + log::kv("bytes", static_cast<int64_t>(bytes)) +
                  log::kv("suppressed", static_cast<int64_t>(suppressed)));
  }
}

SpoolReader::~SpoolReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool SpoolReader::ensure(uint64_t pos, uint64_t n, uint64_t seg_size) {
  if (pos >= buf_pos_ && pos + n <= buf_pos_ + buf_.size()) return true;
  if (pos + n > seg_size) return false;
  const uint64_t want = std::min<uint64_t>(seg_size - pos, std::max<uint64_t>(n, 256 * 1024));
  buf_.resize(want);
  if (!pread_all(fd_, buf_.data(), want, pos)) {
    buf_.clear();
    return false;
  }
  buf_pos_ = pos;
  return true;
}

bool SpoolReader::valid_at(uint64_t pos, uint64_t seg_size, uint32_t* len) {
  if (!ensure(pos, kRecordHeader, seg_size)) return false;
  const uint32_t l = load_le32(buf_.data() + (pos - buf_pos_));
  if (l > kMaxRecord || l > seg_size - pos - kRecordHeader) return false;
  if (!ensure(pos, kRecordHeader + l, seg_size)) return false;
  return verify_record(buf_.data() + (pos - buf_pos_), kRecordHeader + l, len);
}

bool SpoolReader::next(uint64_t* cursor, uint64_t* at, std::string_view* payload) {
  Spool::SegmentView seg;
  for (int attempts = 0; attempts < 1000; ++attempts) {
    if (!spool_.locate(*cursor, &seg)) return false;
    if (*cursor < seg.base) *cursor = seg.base;   // that data was dropped or trimmed
    if (fd_base_ != seg.base) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = ::open(seg.path.c_str(), O_RDONLY | O_CLOEXEC);
      buf_.clear();
      buf_pos_ = 0;
      fd_base_ = seg.base;
      if (fd_ < 0) {
        fd_base_ = UINT64_MAX;
        continue;   // deleted meanwhile: locate again
      }
    }
    const uint64_t pos = *cursor - seg.base;
    uint32_t len = 0;
    if (valid_at(pos, seg.size, &len)) {
      *at = *cursor;
      *cursor += kRecordHeader + len;
      *payload = std::string_view(buf_.data() + (pos - buf_pos_) + kRecordHeader, len);
      if (count_) spool_.note_read(*cursor);
      return true;
    }
    // Corrupt: resume at the next position where a whole record verifies, else the segment end.
    uint64_t q = pos + 1;
    while (q + kRecordHeader <= seg.size && !valid_at(q, seg.size, &len)) ++q;
    if (q + kRecordHeader > seg.size) q = seg.size;
    if (count_) spool_.note_corrupt(q - pos);
    *cursor = seg.base + q;
  }
  return false;
}

}  // namespace logship
