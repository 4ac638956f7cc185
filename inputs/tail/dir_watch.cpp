#include "inputs/tail/dir_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "daemon/core/json_writer.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/component_metrics.h"
#include "daemon/runtime/metrics.h"

namespace logship::tail {

DirWatch::DirWatch(const PluginContext& input) : log_(input) {
  const ComponentMetrics metrics(input);
  fallback_metric_ = &metrics.counter(
      "logship_input_watch_fallbacks_total",
      "Times inotify was unavailable or refused a watch (max_user_watches), so the input polls "
      "its files instead");
  overflow_metric_ = &metrics.counter(
      "logship_input_watch_overflows_total",
      "inotify queue overflows (events lost), each answered by a full scan");
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) degrade("inotify unavailable", "", errno);
}

DirWatch::~DirWatch() {
  if (fd_ >= 0) ::close(fd_);
}

void DirWatch::degrade(const std::string& why, const std::string& dir, int err) {
  fallback_metric_->fetch_add(1, std::memory_order_relaxed);
  if (degraded_) return;   // logged once
  degraded_ = true;
  log_.warn(why + "; polling files instead",
            log::kv("path", dir) + log::kv("error", std::strerror(err)));
}

void DirWatch::watch(const std::string& dir, uint32_t mask) {
  if (fd_ < 0 || watched_.count(dir)) return;
  int wd = ::inotify_add_watch(fd_, dir.c_str(), mask | IN_ONLYDIR);
  if (wd < 0) {
    // ENOENT, ENOTDIR: gone since it was listed; the next scan knows. Anything else (ENOSPC:
    // out of watches, ENOMEM, EACCES) leaves a directory whose changes go unreported.
    if (errno != ENOENT && errno != ENOTDIR) degrade("cannot watch a directory", dir, errno);
    return;
  }
  // The same directory under another name (a symlinked glob root) gets the same wd.
  if (auto old = dirs_.find(wd); old != dirs_.end()) watched_.erase(old->second);
  std::string& stored = dirs_[wd];
  stored = dir;
  watched_[stored] = wd;
}

void DirWatch::forget(const std::string& dir) {
  auto it = watched_.find(dir);
  if (it == watched_.end()) return;
  const int wd = it->second;
  watched_.erase(it);   // before the string its key views
  dirs_.erase(wd);
}

bool DirWatch::wait(int timeout_ms, const OnChange& on_change) {
  if (fd_ < 0) {
    if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r < 0 && errno != EINTR) {
    degrade("cannot wait for inotify events", "", errno);
    return false;
  }
  if (r <= 0) return false;
  bool rescan = false;
  alignas(inotify_event) char b[16384];
  while (true) {
    ssize_t n = ::read(fd_, b, sizeof b);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;   // EAGAIN: drained
    for (char* q = b; q < b + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(q);
      q += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        ++overflows_;
        overflow_metric_->fetch_add(1, std::memory_order_relaxed);
        log_.warn(overflow_limit_, "inotify queue overflowed (events lost); scanning everything");
        full_scan_ = true;
        rescan = true;
        continue;
      }
      auto d = dirs_.find(ev->wd);
      if (d == dirs_.end()) continue;
      if (ev->mask & IN_IGNORED) {   // the directory is gone (or unmounted)
        changed_dirs_.insert(d->second);
        watched_.erase(d->second);   // before the string its key views
        dirs_.erase(d);
        rescan = true;
        continue;
      }
      if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF)) {
        changed_dirs_.insert(d->second);
        rescan = true;
        continue;
      }
      if (!(ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) || ev->len == 0) continue;
      // Reused: no allocation per event once the longest path was seen.
      path_.assign(d->second == "/" ? "" : d->second).append("/").append(ev->name);
      const bool followed = on_change(path_);
      // A file nobody follows finished being written in place (container metadata): the
      // scan reads it. A truncation (IN_ATTRIB... IN_MODIFY) of one is nothing to us.
      if (!followed && (ev->mask & IN_CLOSE_WRITE)) {
        changed_dirs_.insert(d->second);
        rescan = true;
      }
    }
  }
  return rescan;
}

bool DirWatch::take_scan(std::set<std::string>* dirs) {
  const bool full = full_scan_;
  full_scan_ = false;
  dirs->clear();
  dirs->swap(changed_dirs_);
  return full;
}

}  // namespace logship::tail
