#include "daemon/pipeline/dead_letter_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace logship {
namespace {

bool exists(const std::string& p) {
  struct stat st{};
  return ::lstat(p.c_str(), &st) == 0;
}

int flock_retry(int fd, int op) {
  int r;
  do {
    r = ::flock(fd, op);
  } while (r != 0 && errno == EINTR);
  return r;
}

Status open_lock(const std::string& path, int* fd) {
  std::string lp = DeadLetterFile::lock_path(path);
  *fd = ::open(lp.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (*fd < 0) return Status::io("open dead-letter lock " + lp, errno);
  give_to_directory_owner(lp);
  return Status::ok();
}

}  // namespace

void give_to_directory_owner(const std::string& path) {
  if (::geteuid() != 0) return;
  std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat d{}, f{};
  if (::stat(dir.c_str(), &d) != 0 || ::lstat(path.c_str(), &f) != 0) return;
  if (f.st_uid != 0 || d.st_uid == 0) return;   // not ours, or root's directory anyway
  (void)::lchown(path.c_str(), d.st_uid, d.st_gid);
}

uint64_t count_lines(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  uint64_t n = 0;
  char buf[64 * 1024];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (ssize_t i = 0; i < r; ++i) n += buf[i] == '\n';
  }
  ::close(fd);
  return n;
}

std::string DeadLetterFile::series_base(const std::string& path) {
  std::string p = path;
  constexpr std::string_view kClaimed = ".replaying";
  if (p.ends_with(kClaimed)) p.resize(p.size() - kClaimed.size());
  std::size_t dot = p.rfind('.');
  if (dot != std::string::npos && dot + 1 < p.size() &&
      p.find_first_not_of("0123456789", dot + 1) == std::string::npos) {
    p.resize(dot);
  }
  return p;
}

DeadLetterFile::DeadLetterFile(std::string path, DeadLetterLimits limits)
    : path_(std::move(path)), limits_(limits) {}

DeadLetterFile::~DeadLetterFile() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status DeadLetterFile::open_locked() {
  if (fd_ >= 0) {
    // Replay may have taken the file away or rewritten it: write where the path points now.
    struct stat mine{}, named{};
    if (::fstat(fd_, &mine) != 0 || ::stat(path_.c_str(), &named) != 0 ||
        mine.st_ino != named.st_ino || mine.st_dev != named.st_dev) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd_ < 0) return Status::io("open dead-letter file " + path_, errno);
  }
  return Status::ok();
}

Status DeadLetterFile::rotate_locked(Written* result, bool* room) {
  *room = false;
  if (limits_.max_files <= 1) {
    if (!limits_.drop_oldest) return Status::ok();
    result->dropped_old += count_lines(path_);
    if (::ftruncate(fd_, 0) != 0) return Status::io("truncate dead-letter file " + path_, errno);
    *room = true;
    return Status::ok();
  }
  auto slot = [&](int i) { return path_ + "." + std::to_string(i); };
  const int last = limits_.max_files - 1;
  // The lowest free slot; slots above it keep their files (a replay may have emptied one).
  int free_slot = 0;
  for (int i = 1; i <= last; ++i) {
    if (!exists(slot(i))) {
      free_slot = i;
      break;
    }
  }
  if (free_slot == 0) {
    if (!limits_.drop_oldest) return Status::ok();
    result->dropped_old += count_lines(slot(last));
    if (::unlink(slot(last).c_str()) != 0 && errno != ENOENT) {
      return Status::io("delete dead-letter file " + slot(last), errno);
    }
    free_slot = last;
  }
  for (int i = free_slot - 1; i >= 1; --i) {
    if (::rename(slot(i).c_str(), slot(i + 1).c_str()) != 0 && errno != ENOENT) {
      return Status::io("rotate dead-letter file " + slot(i), errno);
    }
  }
  if (::rename(path_.c_str(), slot(1).c_str()) != 0) {
    return Status::io("rotate dead-letter file " + path_, errno);
  }
  ::close(fd_);
  fd_ = -1;
  LOGSHIP_TRY(open_locked());
  *room = true;
  return Status::ok();
}

Status DeadLetterFile::write(std::string_view line, Written* result) {
  *result = Written{};
  if (lock_fd_ < 0) LOGSHIP_TRY(open_lock(path_, &lock_fd_));
  if (flock_retry(lock_fd_, LOCK_EX) != 0) return Status::io("lock dead-letter file " + path_, errno);
  struct Unlock {
    int fd;
    ~Unlock() { (void)::flock(fd, LOCK_UN); }
  } unlock{lock_fd_};
  LOGSHIP_TRY(open_locked());
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return Status::io("stat dead-letter file " + path_, errno);
  if (st.st_size > 0 && static_cast<uint64_t>(st.st_size) + line.size() > limits_.max_file_bytes) {
    bool room = false;
    LOGSHIP_TRY(rotate_locked(result, &room));
    if (!room) {
      result->dropped_new = true;
      return Status::ok();
    }
  }
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Cut a partial line so the file stays one JSON object per line; reopened next time.
      if (off > 0 && ::fstat(fd_, &st) == 0) {
        (void)::ftruncate(fd_, st.st_size - static_cast<off_t>(off));
      }
      ::close(fd_);
      fd_ = -1;
      return Status::io("write dead-letter file " + path_, err);
    }
    off += static_cast<std::size_t>(n);
  }
  return Status::ok();
}

Status DeadLetterLock::acquire(const std::string& path, DeadLetterLock* out) {
  DeadLetterLock l;
  LOGSHIP_TRY(open_lock(path, &l.fd_));
  if (flock_retry(l.fd_, LOCK_EX) != 0) return Status::io("lock dead-letter file " + path, errno);
  *out = std::move(l);
  return Status::ok();
}

DeadLetterLock& DeadLetterLock::operator=(DeadLetterLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

DeadLetterLock::~DeadLetterLock() {
  if (fd_ >= 0) ::close(fd_);   // closing the last descriptor releases the flock
}

}  // namespace logship
