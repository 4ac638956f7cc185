#pragma once
// What the tailer needs from a file format: cut the bytes it reads into events, and say from
// which offset a restart must read again. Docker json-file, CRI and plain text lines implement
// it; the tailer itself knows nothing of lines.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/core/clock.h"

namespace logship::tail {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Consumes the complete records of data[0, len), whose first byte is at file offset `base`;
  // `capacity` >= len + the tailer's read_padding bytes are readable from data. Returns the
  // bytes eaten: the tailer keeps the rest and passes it again with more data.
  virtual std::size_t consume(const char* data, std::size_t len, std::size_t capacity,
                              uint64_t base, Batch& batch, TimePoint now) = 0;
  // Where a restart must read from: the start of what is still held back, else the end of the
  // last record consumed.
  virtual uint64_t safe_offset() const = 0;
  virtual bool has_pending() const = 0;
  virtual std::optional<TimePoint> next_flush() const = 0;
  // Emits what is held back and idle long enough, or everything when `force`.
  virtual void flush(Batch& batch, TimePoint now, bool force) = 0;
  // Forgets all state; the next byte consumed is at `offset` (start, truncation).
  virtual void reset(uint64_t offset) = 0;
  // The bytes that end a record: appended to an unterminated last record when its file is
  // released (its writer is gone and will never finish it).
  virtual std::string_view terminator() const { return "\n"; }
  // The file's first bytes (up to the fingerprint's length), when it is opened at any offset:
  // what a byte-order mark says holds for the whole file.
  virtual void head(std::string_view first_bytes) {}
};

}  // namespace logship::tail
