#pragma once
// Plain text lines for the `file` input: cut at a terminator ('\n', with CRLF's '\r' removed,
// or NUL), one event per line, its time the time it was read, its message UTF-8: UTF-8 files
// as they are (a leading byte-order mark dropped), UTF-16 (LE, BE, or told by the file's
// byte-order mark; invalid code units become U+FFFD) and Latin-1 re-encoded. A line longer
// than max_line_size keeps its first max_line_size bytes (of UTF-8, cut on a character
// boundary), flagged truncated; the rest is dropped and counted. Offsets stay file offsets.
// No I/O: the tailer feeds it, tests too.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/enum_option.h"
#include "inputs/tail/decoder.h"

namespace logship::file {

enum class Framing { kLf, kCrlf, kNul };
constexpr config::EnumNames<Framing, 3> enum_names(Framing) {
  return {{{"lf", Framing::kLf}, {"crlf", Framing::kCrlf}, {"nul", Framing::kNul}}};
}
enum class Encoding { kUtf8, kUtf16, kUtf16Le, kUtf16Be, kLatin1 };
constexpr config::EnumNames<Encoding, 5> enum_names(Encoding) {
  return {{{"utf-8", Encoding::kUtf8},
           {"utf-16", Encoding::kUtf16},
           {"utf-16le", Encoding::kUtf16Le},
           {"utf-16be", Encoding::kUtf16Be},
           {"latin-1", Encoding::kLatin1}}};
}

struct TextOptions {
  Framing framing = Framing::kLf;
  Encoding encoding = Encoding::kUtf8;
  std::size_t max_line_size = 1 << 20;
};

// Counters of one input (all its files); plain integers, the input thread owns them.
struct TextStats {
  uint64_t lines = 0;
  uint64_t truncated = 0;       // lines cut at max_line_size
  uint64_t dropped_bytes = 0;   // bytes cut off them (of the file, before re-encoding)
};

class TextDecoder final : public tail::Decoder {
 public:
  TextDecoder(const TextOptions& o, TextStats* stats);

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
  std::string_view terminator() const override;
  void head(std::string_view first_bytes) override;

 private:
  bool utf16() const { return unit_ == 2; }
  // Offset of the terminator in data[pos, len), or npos.
  std::size_t find_end(const char* data, std::size_t pos, std::size_t len) const;
  // Length of the byte-order mark at the start of the file, and what it says.
  std::size_t bom(std::string_view first_bytes);
  void line(std::string_view raw, uint64_t offset, int64_t time_ns, Batch& batch);
  std::string_view to_utf8(std::string_view raw);

  const TextOptions& o_;
  TextStats* stats_;
  std::size_t unit_ = 1;    // bytes per code unit: 2 for UTF-16
  bool big_endian_ = false;
  std::string scratch_;     // re-encoded line; kept between lines, so no allocation per line
  uint64_t consumed_end_ = 0;
  bool skipping_ = false;   // inside an oversized line, dropping up to its terminator
};

}  // namespace logship::file
