#pragma once
// Plain text lines for the `file` input: cut at a terminator ('\n', with CRLF's '\r' removed,
// or NUL), one event per line, its time the time it was read. A line longer than
// max_line_size keeps its first max_line_size bytes, flagged truncated; the rest is dropped and
// counted. No I/O: the tailer feeds it, tests too.
#include <cstddef>
#include <cstdint>

#include "inputs/tail/decoder.h"

namespace logship::file {

enum class Framing { kLf, kCrlf, kNul };

struct TextOptions {
  Framing framing = Framing::kLf;
  std::size_t max_line_size = 1 << 20;
};

// Counters of one input (all its files); plain integers, the input thread owns them.
struct TextStats {
  uint64_t lines = 0;
  uint64_t truncated = 0;       // lines cut at max_line_size
  uint64_t dropped_bytes = 0;   // bytes cut off them
};

class TextDecoder final : public tail::Decoder {
 public:
  TextDecoder(const TextOptions& o, TextStats* stats) : o_(o), stats_(stats) {}

  std::size_t consume(const char* data, std::size_t len, std::size_t capacity, uint64_t base,
                      Batch& batch, TimePoint now) override;
  uint64_t safe_offset() const override { return consumed_end_; }
  bool has_pending() const override { return false; }
  std::optional<TimePoint> next_flush() const override { return std::nullopt; }
  void flush(Batch&, TimePoint, bool) override {}
  void reset(uint64_t offset) override {
    consumed_end_ = offset;
    skipping_ = false;
  }
  char terminator() const override { return o_.framing == Framing::kNul ? '\0' : '\n'; }

 private:
  void line(std::string_view text, uint64_t offset, int64_t time_ns, Batch& batch);

  const TextOptions& o_;
  TextStats* stats_;
  uint64_t consumed_end_ = 0;
  bool skipping_ = false;   // inside an oversized line, dropping up to its terminator
};

}  // namespace logship::file
