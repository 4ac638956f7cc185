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
  std::string error;
  logship::BatchPtr b = decoder.decode(in, &error);
  if (!b) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  logship::BatchEncoder encoder;
  std::string again;
  encoder.encode(*b, again);
  // Varints may be over-long in the input; the re-encoding is shortest form, so compare the
  // decoded results instead of the bytes when lengths differ.
  logship::BatchDecoder second;
  logship::BatchPtr c = second.decode(again, &error);
  if (!c || c->size() != b->size()) __builtin_trap();
  std::string third;
  encoder.encode(*c, third);
  if (third != again) __builtin_trap();
  if (logship::BatchDecoder::weight(in.substr(0, 16)) != b->size()) __builtin_trap();
  return 0;
}
