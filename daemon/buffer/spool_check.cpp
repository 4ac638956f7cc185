#include "daemon/buffer/spool_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/buffer/spool.h"
#include "daemon/state/atomic_file.h"

namespace logship {
namespace {

struct SegmentFile {
  uint64_t base = 0;
  uint64_t size = 0;   // as a reader sees it: never past the next segment's base
  std::string path;
};

std::string segment_path(const std::string& dir, uint64_t base) {
  return dir + "/" + segment_file_name(base);
}

// The length of the record at `pos` of `data` when it verifies, else -1.
int64_t record_at(std::string_view data, uint64_t pos) {
  uint32_t len = 0;
  if (pos > data.size() || !verify_record(data.data() + pos, data.size() - pos, &len)) return -1;
  return static_cast<int64_t>(len);
}

Status read_file(const std::string& path, uint64_t size, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::io("open " + path, errno);
  out->resize(size);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t r = ::pread(fd, out->data() + done, size - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int err = r < 0 ? errno : EIO;
      ::close(fd);
      return Status::io("read " + path, err);
    }
    done += static_cast<uint64_t>(r);
  }
  ::close(fd);
  return Status::ok();
}

Result<std::vector<SegmentFile>> list_segments(const std::string& dir) {
  std::vector<SegmentFile> segs;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::io("opendir " + dir, errno);
  while (const dirent* e = ::readdir(d)) {
    uint64_t base = 0;
    if (!parse_segment_file_name(e->d_name, &base)) continue;
    struct stat st {};
    const std::string path = segment_path(dir, base);
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    segs.push_back(SegmentFile{base, static_cast<uint64_t>(st.st_size), path});
  }
  ::closedir(d);
  std::sort(segs.begin(), segs.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.base < b.base; });
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    segs[i].size = std::min(segs[i].size, segs[i + 1].base - segs[i].base);
  }
  return segs;
}

Status truncate_and_sync(const std::string& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::io("open " + path, errno);
  Status s;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) s = Status::io("truncate " + path, errno);
  if (s.is_ok() && ::fsync(fd) != 0) s = Status::io("fsync " + path, errno);
  ::close(fd);
  return s;
}

}  // namespace

Result<SpoolCheck> check_spool(const std::string& dir, uint64_t committed,
                               const SpoolRecordFn& on_record) {
  auto segs = list_segments(dir);
  if (!segs.is_ok()) return segs.status();
  SpoolCheck c;
  c.dir = dir;
  c.segments = segs.value().size();
  if (!segs.value().empty()) {
    c.begin = segs.value().front().base;
    c.end = segs.value().back().base + segs.value().back().size;
  }
  std::string data;
  for (const SegmentFile& seg : segs.value()) {
    LOGSHIP_TRY(read_file(seg.path, seg.size, &data));
    uint64_t pos = 0;
    while (pos < data.size()) {
      const int64_t len = record_at(data, pos);
      if (len < 0) {
        // Where a reader resumes: the next position where a whole record verifies.
        uint64_t q = pos + 1;
        while (q + kRecordHeader <= data.size() && record_at(data, q) < 0) ++q;
        const bool tail = q + kRecordHeader > data.size();
        if (tail) q = data.size();
        c.damage.push_back(SpoolDamage{seg.path, seg.base + pos, q - pos, tail});
        pos = q;
        continue;
      }
      const uint64_t at = seg.base + pos;
      const uint64_t n = kRecordHeader + static_cast<uint64_t>(len);
      c.records++;
      c.bytes += n;
      if (at >= committed) {
        c.undelivered_records++;
        c.undelivered_bytes += n;
        if (on_record) {
          on_record(at, std::string_view(data.data() + pos + kRecordHeader,
                                         static_cast<std::size_t>(len)));
        }
      }
      pos += n;
    }
  }
  return c;
}

Result<std::vector<std::string>> repair_spool(const SpoolCheck& c) {
  std::vector<std::string> done;
  // Per segment, back to front: splitting first keeps the earlier damage's positions valid.
  std::vector<SpoolDamage> damage = c.damage;
  std::sort(damage.begin(), damage.end(),
            [](const SpoolDamage& a, const SpoolDamage& b) { return a.offset > b.offset; });
  auto segs = list_segments(c.dir);
  if (!segs.is_ok()) return segs.status();
  for (const SpoolDamage& d : damage) {
    const SegmentFile* seg = nullptr;
    for (const SegmentFile& s : segs.value()) {
      if (s.path == d.segment) seg = &s;
    }
    if (seg == nullptr || d.offset < seg->base) {
      return Status::invalid("spool changed since it was checked: " + d.segment);
    }
    const uint64_t cut = d.offset - seg->base;
    if (!d.tail) {
      // The records after the damage become a segment of their own, at their own offset.
      std::string data;
      LOGSHIP_TRY(read_file(seg->path, seg->size, &data));
      const uint64_t rest = cut + d.bytes;
      LOGSHIP_TRY(write_file_atomically(
          segment_path(c.dir, seg->base + rest),
          std::string_view(data).substr(static_cast<std::size_t>(rest))));
      done.push_back("moved the " + std::to_string(seg->size - rest) + " bytes after offset " +
                     std::to_string(d.offset + d.bytes) + " to " +
                     segment_path(c.dir, seg->base + rest));
    }
    LOGSHIP_TRY(truncate_and_sync(seg->path, cut));
    done.push_back("cut " + std::to_string(d.bytes) + " damaged bytes at offset " +
                   std::to_string(d.offset) + " from " + seg->path);
    // Later damage of the same segment (earlier offsets) sees the segment as now cut.
    for (SegmentFile& s : segs.value()) {
      if (s.path == d.segment) s.size = cut;
    }
  }
  if (!damage.empty()) LOGSHIP_TRY(fsync_dir(c.dir));
  return done;
}

}  // namespace logship
