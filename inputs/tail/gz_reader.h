#pragma once
// A gzip-compressed generation (logrotate's `compress`, Docker's `compress=true`) read as the
// bytes it holds uncompressed, from an uncompressed offset on: what a checkpoint taken on the
// plain file says was already delivered is decompressed and discarded.
//
// Bounded whatever the file holds: one 64 KiB input buffer and zlib's 32 KiB window, and at
// most `max_output` uncompressed bytes (a gzip bomb stops there). Corrupt data is an error with
// its reason, never a crash. Concatenated members (gzip's multi-member files) are read in turn;
// bytes after the last member that are not another member are ignored, as gzip does.
//
// A file still being written (gzip or Docker compressing it right now) ends inside its
// stream: read() then returns 0 with waiting() true and resumes from there when called again.
#include <sys/types.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace logship::tail {

class GzReader {
 public:
  // `fd` is not owned and is read sequentially from its current offset (the file's start).
  GzReader(int fd, uint64_t start, uint64_t max_output);
  ~GzReader();
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Up to `n` uncompressed bytes at position() into `out` (also used as scratch while skipping
  // to the start). > 0: bytes; 0: the end, or waiting() for more compressed input; -1: failed()
  // (error() says why).
  ssize_t read(char* out, std::size_t n);
  // The uncompressed offset of the next byte read() returns (the start, until reached).
  uint64_t position() const { return std::max(produced_, start_); }
  // The stream ended where the data ends, past the start: nothing more will come.
  bool finished() const { return state_ == State::kFinished; }
  bool waiting() const { return state_ == State::kWaiting; }
  bool failed() const { return state_ == State::kFailed; }
  const std::string& error() const { return error_; }
  // The last member ended before the start: this is not the file the offset was taken on.
  bool ended_before_start() const { return finished() && produced_ < start_; }
  // Nothing past the start is left (the gzip trailer says so): read() returns 0 at once.
  void mark_read_to_end() { state_ = State::kFinished; produced_ = start_; }

 private:
  enum class State { kReading, kWaiting, kFinished, kFailed };
  bool fill();   // more compressed input; false at the end of the file (or an error)
  ssize_t fail(std::string why);

  int fd_;
  uint64_t start_;
  uint64_t max_output_;
  uint64_t produced_ = 0;   // uncompressed bytes decompressed so far (skipped ones included)
  State state_ = State::kReading;
  bool member_ended_ = false;   // between two members: the next bytes may start another
  bool started_ = false;        // inflateInit2 succeeded
  std::unique_ptr<unsigned char[]> in_;
  z_stream zs_{};
  std::string error_;
};

// The first `len` uncompressed bytes of the gzip file at fd (pread from its start; fewer when it
// holds fewer). `complete`: the stream was read to its end (so a shorter prefix is the whole
// file, not a file still being written). False when it is not gzip or is corrupt before that.
bool gz_prefix(int fd, std::size_t len, std::string* out, bool* complete);

// The uncompressed size modulo 2^32 in the gzip trailer of the file's last member (its last 4
// bytes), if the file is long enough to have one.
std::optional<uint32_t> gz_trailer_size(int fd);

}  // namespace logship::tail
