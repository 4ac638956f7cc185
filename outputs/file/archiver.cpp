#include "outputs/file/archiver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "daemon/runtime/log.h"
#include "daemon/state/atomic_file.h"

namespace logship::plugins {

namespace fs = std::filesystem;

Archiver::Archiver(bool compress, int level, RetentionPolicy retention)
    : compress_(compress), level_(level), retention_(retention) {
  thread_ = std::thread([this] { run(); });
}

Archiver::~Archiver() { stop(std::chrono::steady_clock::now()); }

void Archiver::submit(std::string segment, std::string active_path) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({std::move(segment), std::move(active_path)});
  }
  cv_.notify_one();
}

void Archiver::stop(std::chrono::steady_clock::time_point deadline) {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait_until(lock, deadline, [this] { return jobs_.empty() && !busy_; });
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Archiver::wait_idle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

void Archiver::report_to(const ComponentLog& log, std::atomic<uint64_t>* removed) {
  std::lock_guard lock(mu_);
  log_ = log;
  removed_ = removed;
}

void Archiver::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (stop_) return;   // what is left is found again at the next start
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    std::atomic<uint64_t>* removed = removed_;
    const ComponentLog out_log = log_;
    lock.unlock();
    if (compress_ && fs::exists(job.segment)) {
      Status s = gzip_file(job.segment, job.segment + ".gz", level_);
      if (!s.is_ok()) {
        out_log.error("compressing a closed segment failed; it stays uncompressed",
                      log::kv("path", job.segment) + log::kv("error", s.message()));
      } else {
        ::unlink(job.segment.c_str());
      }
    }
    apply_retention(job.active_path, retention_, compress_, removed);
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

Status Archiver::gzip_file(const std::string& src, const std::string& dst, int level) {
  const std::string tmp = dst + ".tmp";
  // Never through a symbolic link planted in the output directory: compressing its target
  // would copy another file's bytes into an archive, and truncating one would destroy them.
  int in = ::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) return Status::io("open " + src, errno);
  struct stat st{};
  if (::fstat(in, &st) != 0) {
    int err = errno;
    ::close(in);
    return Status::io("stat " + src, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(in);
    return Status::invalid("open " + src + ": not a regular file");
  }
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return Status::io("open " + tmp, err);
  }
  z_stream z{};
  // windowBits 15 + 16: gzip wrapper.
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    ::close(in);
    ::close(out);
    return Status::internal("deflateInit2 failed");
  }
  std::vector<unsigned char> ibuf(256 * 1024), obuf(256 * 1024);
  Status result = Status::ok();
  bool done = false;
  while (!done && result.is_ok()) {
    ssize_t n = ::read(in, ibuf.data(), ibuf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Status::io("read " + src, errno);
      break;
    }
    z.next_in = ibuf.data();
    z.avail_in = static_cast<uInt>(n);
    int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = obuf.data();
      z.avail_out = static_cast<uInt>(obuf.size());
      int rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) {
        result = Status::internal("deflate failed");
        break;
      }
      std::size_t have = obuf.size() - z.avail_out;
      std::size_t off = 0;
      while (off < have) {
        ssize_t w = ::write(out, obuf.data() + off, have - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          result = Status::io("write " + tmp, errno);
          break;
        }
        off += static_cast<std::size_t>(w);
      }
      if (rc == Z_STREAM_END) done = true;
    } while (z.avail_out == 0 && result.is_ok());
  }
  deflateEnd(&z);
  ::close(in);
  if (result.is_ok() && ::fsync(out) != 0) result = Status::io("fsync " + tmp, errno);
  ::close(out);
  if (result.is_ok() && ::rename(tmp.c_str(), dst.c_str()) != 0) {
    result = Status::io("rename " + tmp, errno);
  }
  if (!result.is_ok()) {
    ::unlink(tmp.c_str());
    return result;
  }
  return fsync_dir(fs::path(dst).parent_path().string());
}

void Archiver::apply_retention(const std::string& active_path, const RetentionPolicy& p,
                               bool compressed, std::atomic<uint64_t>* removed) {
  if (p.keep_files <= 0 && p.keep_bytes == 0 && p.keep_age.count() <= 0) return;
  const fs::path active(active_path);
  const std::string prefix = active.filename().string() + ".";
  struct Archive {
    std::string path;
    uint64_t size;
    fs::file_time_type mtime;
  };
  std::vector<Archive> archives;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(active.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) continue;
    const bool gz = name.size() >= 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
    if (compressed != gz) continue;   // a segment still waiting for compression is not an archive
    std::error_code e2;
    archives.push_back({entry.path().string(), entry.file_size(e2), entry.last_write_time(e2)});
  }
  // Names embed a zero-padded timestamp: name order is age order, oldest first.
  std::sort(archives.begin(), archives.end(),
            [](const Archive& a, const Archive& b) { return a.path < b.path; });
  uint64_t total = 0;
  for (const auto& a : archives) total += a.size;
  const auto now = fs::file_time_type::clock::now();
  std::size_t remaining = archives.size();
  for (const auto& a : archives) {
    bool too_many = p.keep_files > 0 && remaining > static_cast<std::size_t>(p.keep_files);
    bool too_big = p.keep_bytes > 0 && total > p.keep_bytes;
    bool too_old = p.keep_age.count() > 0 && now - a.mtime > p.keep_age;
    if (!too_many && !too_big && !too_old) continue;
    if (::unlink(a.path.c_str()) == 0) {
      if (removed != nullptr) removed->fetch_add(1, std::memory_order_relaxed);
      total -= a.size;
      --remaining;
    }
  }
}

}  // namespace logship::plugins
