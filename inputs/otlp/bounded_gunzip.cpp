#include "inputs/otlp/bounded_gunzip.h"

#include <zlib.h>

#include <algorithm>

namespace logship::plugins::otlp_in {

GunzipResult gunzip_bounded(std::string_view in, std::size_t max_out, std::string* out) {
  out->clear();
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return GunzipResult::kMalformed;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  GunzipResult result = GunzipResult::kMalformed;
  // Grows in steps (at most double what the body is, then by 64 KiB minimum) up to the cap
  // plus one byte: producing that byte proves the cap is passed.
  std::size_t have = 0;
  for (;;) {
    if (have == out->size()) {
      if (out->size() > max_out) {
        result = GunzipResult::kTooLarge;
        break;
      }
      std::size_t grow = std::max<std::size_t>(64 * 1024, out->size());
      out->resize(std::min(out->size() + grow, max_out + 1));
    }
    z.next_out = reinterpret_cast<Bytef*>(out->data() + have);
    z.avail_out = static_cast<uInt>(out->size() - have);
    const int rc = inflate(&z, Z_NO_FLUSH);
    have = out->size() - z.avail_out;
    if (rc == Z_STREAM_END) {
      result = have > max_out ? GunzipResult::kTooLarge
               : z.avail_in == 0 ? GunzipResult::kOk
                                 : GunzipResult::kMalformed;
      break;
    }
    if (have > max_out) {
      result = GunzipResult::kTooLarge;
      break;
    }
    if (rc == Z_BUF_ERROR && z.avail_out != 0) break;   // input ended mid-stream: truncated
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
  }
  inflateEnd(&z);
  out->resize(result == GunzipResult::kOk ? have : 0);
  return result;
}

}  // namespace logship::plugins::otlp_in
