#pragma once
// Docker's log-driver FIFO framing and its LogEntry protobuf, decoded by hand.
//
// Why not libprotobuf: the message has five scalar fields and one nested message; a decoder is
// ~100 lines with no dependency, no generated code and no allocation (it returns views into the
// frame), and it is small enough to fuzz exhaustively. Unknown fields are skipped, as proto3
// requires, so newer engines (attrs = 6) still decode.
//
// Frame: [uint32 big-endian size][LogEntry of exactly size bytes], repeated, no padding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship::docker_plugin {

struct LogEntryView {
  std::string_view source;       // "stdout" | "stderr"
  int64_t time_nano = 0;
  std::string_view line;         // without the trailing '\n'
  bool partial = false;
  bool has_partial_meta = false;
  bool last = false;             // partial_log_metadata.last
  std::string_view partial_id;   // partial_log_metadata.id
  int32_t ordinal = 0;           // partial_log_metadata.ordinal
};

// Decodes one LogEntry; corrupt with what is wrong with it otherwise.
Status decode_log_entry(std::string_view bytes, LogEntryView* out);

// Appends the protobuf encoding of `e` (without the frame header); default values are omitted
// as proto3 does, so decode(encode(e)) == e.
void encode_log_entry(std::string& out, const LogEntryView& e);
// Appends a whole frame: size header + encoding.
void append_frame(std::string& out, const LogEntryView& e);

// Splits a byte stream into frames, across reads of any size. Frames longer than `max_frame`
// are not buffered: their bytes are skipped as they arrive, so a corrupt or hostile length never
// makes the reader allocate and the stream stays in step when the length was genuine.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_frame) : max_frame_(max_frame) {}

  void feed(const char* data, std::size_t n) {
    if (skip_ > 0) {
      std::size_t k = n < skip_ ? n : skip_;
      skip_ -= k;
      data += k;
      n -= k;
    }
    buf_.append(data, n);
  }

  enum class Next { kFrame, kNeedMore, kOversize };
  // The next complete frame's payload (valid until the next call), or why there is none.
  // kOversize reports one over-long frame (its size in *oversize) and starts skipping it.
  Next next(std::string_view* payload, uint64_t* oversize = nullptr) {
    const std::size_t avail = buf_.size() - pos_;
    if (avail < 4) return compact();
    const auto* p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
    const uint32_t size = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                          (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (size > max_frame_) {
      pos_ += 4;
      const std::size_t here = buf_.size() - pos_;
      const std::size_t k = here < size ? here : size;
      pos_ += k;
      skip_ = size - k;
      if (oversize) *oversize = size;
      compact();
      return Next::kOversize;
    }
    if (avail < 4 + static_cast<std::size_t>(size)) return compact();
    *payload = std::string_view(buf_.data() + pos_ + 4, size);
    pos_ += 4 + size;
    return Next::kFrame;
  }

  // Bytes of an incomplete frame held (a truncated frame if the stream ends here).
  std::size_t buffered() const { return buf_.size() - pos_; }
  std::string_view buffered_bytes() const {
    return std::string_view(buf_).substr(pos_);
  }
  bool skipping() const { return skip_ > 0; }
  // Heap the reader holds (charged to the memory budget).
  std::size_t capacity() const { return buf_.capacity(); }
  void clear() {
    buf_.clear();
    pos_ = 0;
    skip_ = 0;
  }

 private:
  Next compact() {
    // Only when everything was consumed or the consumed prefix is large: amortized O(1) per byte.
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    } else if (pos_ > 64 * 1024 && pos_ * 2 > buf_.size()) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return Next::kNeedMore;
  }

  const std::size_t max_frame_;
  std::string buf_;
  std::size_t pos_ = 0;
  uint64_t skip_ = 0;
};

}  // namespace logship::docker_plugin
