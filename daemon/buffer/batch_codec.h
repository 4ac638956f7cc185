#pragma once
// A batch as one disk-buffer record, and back. Lossless for everything an output sees: the
// source (input, key, tags, labels), each event's time, offset, stream, flags, message and typed
// fields. Acknowledgements are not part of it: the buffer gives read batches its own.
//
// Layout (integers little-endian, "varint" = LEB128):
//   u32 events            first, so the spool can weigh a record without decoding it
//   u8  version (1)
//   varint n, n bytes     the source block (encoded once per SourceInfo and cached)
//   per event: i64 time_ns, varint offset, u8 stream, u8 flags, varint n + message,
//              varint fields, per field: varint n + key, u8 type, value
//              (string/raw: varint n + bytes; int: zigzag varint; double: 8 bytes; bool: u8)
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "daemon/core/batch.h"
#include "daemon/core/status.h"

namespace logship {

class BatchEncoder {
 public:
  // Replaces `out` with the record for `b`.
  void encode(const Batch& b, std::string& out);

 private:
  const SourceInfo* cached_source_ = nullptr;
  std::shared_ptr<const SourceInfo> cached_owner_;   // keeps the pointer from being reused
  std::string source_block_;
};

class BatchDecoder {
 public:
  // A new batch, or corrupt when the record is not a valid encoding. Never reads outside
  // `record`.
  Result<BatchPtr> decode(std::string_view record);
  // The event count a record declares (the spool's weight); 1 for anything too short.
  static uint64_t weight(std::string_view prefix);

 private:
  std::string source_block_;
  std::shared_ptr<const SourceInfo> source_;   // reused while consecutive records share it
};

}  // namespace logship
