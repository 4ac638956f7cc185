#include "outputs/file/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace logship::plugins {
namespace {

std::string describe(std::string_view what, const std::string& path, int err) {
  return std::string(what) + " " + path + ": " + std::strerror(err);
}

void fail(OpenFailure* why, std::string_view what, const std::string& path, int err) {
  why->permanent = permanent_path_error(err);
  why->what = describe(what, path, err);
}

}  // namespace

std::optional<PermanentError> permanent_path_error(int err) {
  switch (err) {
    case ELOOP:          // O_NOFOLLOW met a symbolic link (or the directories loop)
      return PermanentError::kSymlink;
    case ENAMETOOLONG:   // a component over NAME_MAX or the whole path over PATH_MAX
    case EISDIR:         // a directory where the file should be
    case ENXIO:          // a FIFO without a reader, a socket or a device node
      return PermanentError::kBadPath;
    default:
      // EMFILE, ENFILE, ENOSPC, EIO, EACCES, EROFS... may heal. So may ENOTDIR (and EEXIST from
      // creating directories): a sanitised value holds no '/', so no event can put a file where
      // a directory should be; that is the output directory itself broken or replaced, an
      // outage for every event, retried until it is repaired.
      return std::nullopt;
  }
}

bool make_parent_dirs(const std::string& path, OpenFailure* why) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return true;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (!ec) return true;
  fail(why, "create directory", parent.string(), ec.value());
  return false;
}

int open_output_file(const std::string& path, uint64_t* size, OpenFailure* why) {
  // O_RDWR: cut_torn_line reads the file's end through this same descriptor.
  int fd = ::open(path.c_str(),
                  O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
  if (fd < 0) {
    fail(why, "open", path, errno);
    return -1;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    fail(why, "stat", path, errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    why->permanent = PermanentError::kBadPath;
    why->what = "open " + path + ": not a regular file";
    ::close(fd);
    return -1;
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

Result<uint64_t> cut_torn_line(int fd, uint64_t size) {
  if (size == 0) return uint64_t{0};
  char last = 0;
  if (ssize_t n = ::pread(fd, &last, 1, static_cast<off_t>(size - 1)); n != 1) {
    return Status::io("read the last byte", n < 0 ? errno : EIO);
  }
  if (last == '\n') return uint64_t{0};
  // Scan back for the last newline in 64 KiB steps; none: the whole file is one torn line.
  uint64_t keep = 0;
  std::vector<char> buf(65536);
  uint64_t end = size;
  while (end > 0) {
    const uint64_t start = end > buf.size() ? end - buf.size() : 0;
    const ssize_t n = ::pread(fd, buf.data(), end - start, static_cast<off_t>(start));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(end - start)) {
      return Status::io("read for a torn line", n < 0 ? errno : EIO);
    }
    bool found = false;
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (buf[static_cast<std::size_t>(i)] == '\n') {
        keep = start + static_cast<uint64_t>(i) + 1;
        found = true;
        break;
      }
    }
    if (found) break;
    end = start;
  }
  if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) return Status::io("cut a torn line", errno);
  if (::fdatasync(fd) != 0) return Status::io("fdatasync after cutting a torn line", errno);
  return size - keep;
}

}  // namespace logship::plugins
