#include "inputs/file/text_decoder.h"

#include <cstring>

namespace logship::file {

std::size_t TextDecoder::consume(const char* data, std::size_t len, std::size_t, uint64_t base,
                                 Batch& batch, TimePoint) {
  const char term = terminator();
  const int64_t time_ns = wall_now_ns();   // one clock read per chunk, not per line
  std::size_t pos = 0;
  while (pos < len) {
    const char* end_p = static_cast<const char*>(std::memchr(data + pos, term, len - pos));
    if (end_p == nullptr) {
      const std::size_t rest = len - pos;
      if (skipping_) {
        stats_->dropped_bytes += rest;
        pos = len;
      } else if (rest > o_.max_line_size) {
        // Cut now rather than hold an unbounded line: its head goes out, the rest is dropped
        // up to its terminator.
        line(std::string_view(data + pos, rest), base + pos, time_ns, batch);
        skipping_ = true;
        pos = len;
      }
      consumed_end_ = base + pos;
      break;
    }
    const std::size_t end = static_cast<std::size_t>(end_p - data);
    if (skipping_) {
      stats_->dropped_bytes += end - pos;
      skipping_ = false;
    } else {
      std::string_view text(data + pos, end - pos);
      if (o_.framing == Framing::kCrlf && !text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
      }
      line(text, base + pos, time_ns, batch);
    }
    pos = end + 1;
    consumed_end_ = base + pos;
  }
  return pos;
}

void TextDecoder::line(std::string_view text, uint64_t offset, int64_t time_ns, Batch& batch) {
  ++stats_->lines;
  uint8_t flags = 0;
  if (text.size() > o_.max_line_size) {
    stats_->dropped_bytes += text.size() - o_.max_line_size;
    text = text.substr(0, o_.max_line_size);
    flags = kEventTruncated;
  }
  if (flags != 0) ++stats_->truncated;
  Event& e = batch.add_event();
  e.message = batch.copy(text);
  e.time_ns = time_ns;
  e.offset = offset;
  e.flags = flags;
}

}  // namespace logship::file
