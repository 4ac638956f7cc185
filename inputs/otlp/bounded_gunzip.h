#pragma once
// gzip decompression with a hard cap on the output: a small body that inflates to gigabytes
// (a gzip bomb) is refused once it passes the cap, never held in memory whole.
#include <cstddef>
#include <string>
#include <string_view>

namespace logship::plugins::otlp_in {

enum class GunzipResult { kOk, kTooLarge, kMalformed };

// Inflates the single gzip member `in` into `out` (replaced). kTooLarge as soon as the output
// would pass `max_out` bytes; kMalformed for a broken or truncated stream or trailing bytes.
GunzipResult gunzip_bounded(std::string_view in, std::size_t max_out, std::string* out);

}  // namespace logship::plugins::otlp_in
