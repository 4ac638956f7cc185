#include "inputs/tail/dir_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "daemon/runtime/log.h"

namespace logship::tail {

DirWatch::DirWatch(std::string_view component, const std::string& input) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    log::warn(component, "inotify unavailable; polling only",
              log::kv("input", input) + log::kv("error", std::strerror(errno)));
  }
}

DirWatch::~DirWatch() {
  if (fd_ >= 0) ::close(fd_);
}

void DirWatch::watch(const std::string& dir, uint32_t mask) {
  if (fd_ < 0 || watched_.count(dir)) return;
  int wd = ::inotify_add_watch(fd_, dir.c_str(), mask | IN_ONLYDIR);
  if (wd >= 0) watched_[dir] = wd;
}

bool DirWatch::wait(int timeout_ms) {
  if (fd_ < 0) {
    if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) return false;
  bool rescan = false;
  alignas(inotify_event) char b[16384];
  while (true) {
    ssize_t n = ::read(fd_, b, sizeof b);
    if (n <= 0) break;
    for (char* q = b; q < b + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(q);
      if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_Q_OVERFLOW |
                      IN_DELETE_SELF | IN_IGNORED | IN_CLOSE_WRITE)) {
        rescan = true;
      }
      q += sizeof(inotify_event) + ev->len;
    }
  }
  return rescan;
}

}  // namespace logship::tail
