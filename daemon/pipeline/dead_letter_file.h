#pragma once
// A bounded, rotated dead-letter file: <state_dir>/dlq/<output>.ndjson, rotated to .1 (newest)
// ... .<max_files-1> (oldest) when it would pass max_file_bytes. When every slot is taken the
// policy decides: drop_newest refuses the new line, drop_oldest deletes the oldest file. What is
// dropped is reported to the caller, which counts and logs it.
//
// Writers and `logship dead-letters replay` share the series through <path>.lock (flock): a
// writer holds it for one line (and a rotation), replay while it takes a file away and while it
// writes back what was rejected again. A writer whose descriptor no longer names <path> (taken
// away or rewritten) reopens it.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship {

struct DeadLetterLimits {
  uint64_t max_file_bytes = 64ull << 20;
  int max_files = 4;            // the active file included
  bool drop_oldest = false;     // false: drop_newest (the file keeps the first failures)
};

class DeadLetterFile {
 public:
  DeadLetterFile(std::string path, DeadLetterLimits limits);
  ~DeadLetterFile();
  DeadLetterFile(const DeadLetterFile&) = delete;
  DeadLetterFile& operator=(const DeadLetterFile&) = delete;

  struct Written {
    bool dropped_new = false;      // drop_newest: the line was not written
    uint64_t dropped_old = 0;      // drop_oldest: lines of the oldest file deleted to make room
  };
  // Appends one line (ending in '\n'). An error means nothing was written.
  Status write(std::string_view line, Written* result);
  const std::string& path() const { return path_; }

  // The lock file of the series `path` belongs to: a rotated "<base>.N" or a claimed
  // "<...>.replaying" file shares <base>'s lock.
  static std::string series_base(const std::string& path);
  static std::string lock_path(const std::string& path) { return series_base(path) + ".lock"; }

 private:
  Status open_locked();
  Status rotate_locked(Written* result, bool* room);

  const std::string path_;
  const DeadLetterLimits limits_;
  int fd_ = -1;
  int lock_fd_ = -1;
};

// Holds the series lock (flock LOCK_EX on <base>.lock) while alive.
class DeadLetterLock {
 public:
  static Status acquire(const std::string& path, DeadLetterLock* out);
  DeadLetterLock() = default;
  DeadLetterLock(DeadLetterLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DeadLetterLock& operator=(DeadLetterLock&& o) noexcept;
  ~DeadLetterLock();

 private:
  int fd_ = -1;
};

// Run as root (`sudo logship dead-letters replay`), gives a file it created to the owner of its
// directory, so the daemon, running as its own user, can still write the series.
void give_to_directory_owner(const std::string& path);

// Lines (with '\n') in a file; 0 when it cannot be read.
uint64_t count_lines(const std::string& path);

}  // namespace logship
