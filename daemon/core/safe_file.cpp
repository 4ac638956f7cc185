#include "daemon/core/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace logship {
namespace {

SafeRead failure(SafeRead::Outcome outcome, int err, std::string what) {
  SafeRead r;
  r.outcome = outcome;
  r.err = err;
  r.error = err != 0 ? what + ": " + std::strerror(err) : std::move(what);
  return r;
}

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

SafeRead read_file_safely(const std::string& path, const SafeReadLimits& limits, std::string* out) {
  using O = SafeRead::Outcome;
  out->clear();
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  if (!limits.follow_symlinks) flags |= O_NOFOLLOW;
  int raw = -1;
  do {
    raw = ::open(path.c_str(), flags);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return failure(O::kMissing, err, "open");
    if (err == ELOOP && !limits.follow_symlinks) {
      return failure(O::kRejected, 0, "is a symbolic link; not followed");
    }
    return failure(O::kFailed, err, "open");
  }
  Fd fd(raw);
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return failure(O::kFailed, errno, "fstat");
  if (!S_ISREG(st.st_mode)) return failure(O::kRejected, 0, std::string("is ") + file_type(st.st_mode));
  const auto too_large = [&](uint64_t size) {
    return failure(O::kRejected, 0,
                   "is larger than " + std::to_string(limits.max_bytes) + " bytes (" +
                       std::to_string(size) + (size > limits.max_bytes ? "" : "+") + ")");
  };
  if (static_cast<uint64_t>(st.st_size) > limits.max_bytes) {
    return too_large(static_cast<uint64_t>(st.st_size));
  }
  // The size may change under us: read at most one byte past the cap to tell "grew too large".
  out->resize(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  while (true) {
    if (got == out->size()) {
      if (got > limits.max_bytes) {
        out->clear();
        return too_large(got);
      }
      out->resize(std::min<std::size_t>(limits.max_bytes + 1, got * 2 + 4096));
    }
    ssize_t n = ::read(fd.get(), out->data() + got, out->size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      out->clear();
      return failure(O::kFailed, err, "read");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > limits.max_bytes) {
    out->clear();
    return too_large(got);
  }
  out->resize(got);
  return SafeRead{};
}

}  // namespace logship
