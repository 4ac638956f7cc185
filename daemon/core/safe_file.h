#pragma once
// Reading a small file that someone else controls (Docker's config.v2.json, a ${file:...}
// secret, the checkpoint file) without letting it hang, exhaust memory or redirect the read:
// the open never blocks (a FIFO), the descriptor must be a regular file (not a device, a FIFO
// or a directory), a symlink as the last component is refused unless allowed, and no more than
// max_bytes are ever read.
#include <cstddef>
#include <string>

namespace logship {

struct SafeReadLimits {
  std::size_t max_bytes = 1 << 20;
  // Off for files in directories others write (a link to /dev/zero or /etc/shadow); on for
  // files an operator names (Kubernetes mounts secrets as symlinks).
  bool follow_symlinks = false;
};

struct SafeRead {
  enum class Outcome {
    kOk,
    kMissing,    // ENOENT/ENOTDIR: not there (yet)
    kRejected,   // there, but not something to read: symlink, not regular, over max_bytes
    kFailed,     // a syscall failed (EMFILE, EACCES, EIO): worth retrying later
  };
  Outcome outcome = Outcome::kOk;
  int err = 0;         // errno for kMissing/kFailed
  std::string error;   // why, for the log (empty when kOk)
  bool ok() const { return outcome == Outcome::kOk; }
};

// Replaces *out with the file's content, or leaves it empty and says why not.
SafeRead read_file_safely(const std::string& path, const SafeReadLimits& limits, std::string* out);

}  // namespace logship
