#pragma once
// inotify on the directories discovery lists: tells the follow loop when to scan again instead
// of waiting for the rescan period. Only directory watches (IN_MODIFY of a file in a watched
// directory is reported on the directory). Without inotify (unavailable, out of watches) it
// sleeps and the periodic rescan does the work.
#include <sys/inotify.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace logship::tail {

class DirWatch {
 public:
  // A directory of directories; a directory of log files.
  static constexpr uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
  static constexpr uint32_t kLeafMask = kDirMask | IN_MODIFY | IN_CLOSE_WRITE;

  // `component` and `input` name the log lines.
  DirWatch(std::string_view component, const std::string& input);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  void watch(const std::string& dir, uint32_t mask);
  // The directory is gone: the kernel dropped its watch.
  void forget(const std::string& dir) { watched_.erase(dir); }
  // Waits up to timeout_ms for events; true if one asks for a rescan (a file created, deleted
  // or moved, a queue overflow).
  bool wait(int timeout_ms);

 private:
  int fd_ = -1;
  std::map<std::string, int> watched_;
};

}  // namespace logship::tail
