// Disk-buffer records: any bytes decode to a batch or are rejected without reading outside the
// record; what decodes re-encodes, and that encoding is stable (decode + encode is the identity
// on it), so replay after a restart hands outputs exactly what was buffered.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/buffer/batch_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  logship::BatchDecoder decoder;
  auto decoded = decoder.decode(in);
  if (!decoded.is_ok()) {
    if (decoded.status().message().empty()) __builtin_trap();
    return 0;
  }
  const logship::BatchPtr& b = decoded.value();
  logship::BatchEncoder encoder;
  std::string again;
  encoder.encode(*b, again);
  // Varints may be over-long in the input; the re-encoding is shortest form, so compare the
  // decoded results instead of the bytes when lengths differ.
  logship::BatchDecoder second;
  auto redecoded = second.decode(again);
  if (!redecoded.is_ok() || redecoded.value()->size() != b->size()) __builtin_trap();
  const logship::BatchPtr& c = redecoded.value();
  std::string third;
  encoder.encode(*c, third);
  if (third != again) __builtin_trap();
  if (logship::BatchDecoder::weight(in.substr(0, 16)) != b->size()) __builtin_trap();
  return 0;
}
