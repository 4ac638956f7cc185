#include "inputs/tail/gz_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace logship::tail {

namespace {

constexpr std::size_t kInputBuffer = 64 << 10;
constexpr int kGzipOnly = 16 + MAX_WBITS;   // a gzip header and trailer, the largest window

bool starts_a_member(const unsigned char* p, std::size_t n) {
  return n < 2 ? n == 0 || p[0] == 0x1f : p[0] == 0x1f && p[1] == 0x8b;
}

}  // namespace

GzReader::GzReader(int fd, uint64_t start, uint64_t max_output)
    : fd_(fd), start_(start), max_output_(max_output), in_(new unsigned char[kInputBuffer]) {
  if (inflateInit2(&zs_, kGzipOnly) != Z_OK) {
    fail("cannot initialize zlib");
    return;
  }
  started_ = true;
}

GzReader::~GzReader() {
  if (started_) inflateEnd(&zs_);
}

ssize_t GzReader::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  return -1;
}

bool GzReader::fill() {
  for (;;) {
    ssize_t n = ::read(fd_, in_.get(), kInputBuffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fail(std::string("read: ") + std::strerror(errno));
      return false;
    }
    zs_.next_in = in_.get();
    zs_.avail_in = static_cast<uInt>(n);
    return n > 0;
  }
}

ssize_t GzReader::read(char* out, std::size_t n) {
  if (state_ == State::kFailed) return -1;
  if (state_ == State::kFinished || n == 0) return 0;
  state_ = State::kReading;
  for (;;) {
    if (zs_.avail_in == 0 && !fill()) {
      if (state_ == State::kFailed) return -1;
      // The end of what is on disk: after a whole member, the end of the file; inside one, a
      // file still being written (or cut short: the caller decides when to give up).
      state_ = member_ended_ ? State::kFinished : State::kWaiting;
      return 0;
    }
    if (member_ended_) {
      // gzip reads concatenated members; anything else after one (padding) ends the file.
      if (!starts_a_member(zs_.next_in, zs_.avail_in)) {
        state_ = State::kFinished;
        return 0;
      }
      if (inflateReset(&zs_) != Z_OK) return fail("cannot reset zlib");
      member_ended_ = false;
    }
    // Skipping: the caller's buffer is scratch. Reading: at most what max_output allows.
    const bool skipping = produced_ < start_;
    std::size_t want = n;
    if (skipping) want = static_cast<std::size_t>(std::min<uint64_t>(n, start_ - produced_));
    if (produced_ >= max_output_) {
      return fail("more than max_decompressed_size (" + std::to_string(max_output_) +
                  " bytes) uncompressed");
    }
    want = static_cast<std::size_t>(std::min<uint64_t>(want, max_output_ - produced_));
    zs_.next_out = reinterpret_cast<Bytef*>(out);
    zs_.avail_out = static_cast<uInt>(std::min<std::size_t>(want, UINT32_MAX));
    const uInt before = zs_.avail_out;
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    const std::size_t got = before - zs_.avail_out;
    produced_ += got;
    if (rc == Z_STREAM_END) {
      member_ended_ = true;
    } else if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_MEM_ERROR ||
               rc == Z_STREAM_ERROR) {
      return fail(std::string("corrupt gzip data: ") +
                  (zs_.msg != nullptr ? zs_.msg : "inflate error " + std::to_string(rc)));
    }
    // Z_OK / Z_BUF_ERROR: progress, or more input needed (the loop refills).
    if (got == 0 && rc == Z_BUF_ERROR && zs_.avail_in > 0) return fail("corrupt gzip data");
    if (got == 0) continue;
    if (skipping) continue;   // discarded; `out` is reused
    return static_cast<ssize_t>(got);
  }
}

bool gz_prefix(int fd, std::size_t len, std::string* out, bool* complete) {
  out->clear();
  *complete = false;
  z_stream zs{};
  if (inflateInit2(&zs, kGzipOnly) != Z_OK) return false;
  out->resize(len);
  unsigned char in[4096];
  off_t at = 0;
  std::size_t have = 0;
  bool ok = true;
  while (have < len) {
    if (zs.avail_in == 0) {
      ssize_t n = ::pread(fd, in, sizeof in, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ok = n == 0 && at > 0;   // the data ends inside the stream: a shorter prefix
        break;
      }
      at += n;
      zs.next_in = in;
      zs.avail_in = static_cast<uInt>(n);
    }
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + have);
    zs.avail_out = static_cast<uInt>(len - have);
    const uInt before = zs.avail_out;
    const int rc = inflate(&zs, Z_NO_FLUSH);
    have += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      *complete = true;   // one member; a next one would start later: the prefix is this much
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      ok = false;
      break;
    }
  }
  inflateEnd(&zs);
  out->resize(have);
  return ok;
}

std::optional<uint32_t> gz_trailer_size(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || st.st_size < 18) return std::nullopt;   // header 10 + trailer 8
  unsigned char b[4];
  if (::pread(fd, b, 4, st.st_size - 4) != 4) return std::nullopt;
  return static_cast<uint32_t>(b[0]) | static_cast<uint32_t>(b[1]) << 8 |
         static_cast<uint32_t>(b[2]) << 16 | static_cast<uint32_t>(b[3]) << 24;
}

}  // namespace logship::tail
