#pragma once
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace logship::commands {

// Notices that the config changed: the main file or a conf.d piece got another inode (an
// editor's rename, a ConfigMap's symlink swap), size or mtime, or a piece was added or removed.
// stat() follows the paths' links, as a reload reads through them.
class ConfigWatch {
 public:
  // An empty path or a zero interval watches nothing.
  ConfigWatch(std::string path, std::chrono::milliseconds interval);
  // True once per change, checked at most every interval. A file that cannot be stat()ed is
  // not a change (it may be mid-replacement); it is looked at again next time.
  bool changed();
  // Takes the file as it is now as the version running (after a reload, successful or not).
  void rebase();

 private:
  struct FileIdentity {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
    bool operator==(const FileIdentity& o) const;
  };
  using Identity = std::vector<FileIdentity>;   // the main file, then each piece
  bool stat_now(Identity* out) const;
  std::string path_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_{};
  Identity seen_;
};

}  // namespace logship::commands
