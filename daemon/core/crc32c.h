#pragma once
// CRC-32C (Castagnoli), the checksum of spool records. Software slicing-by-8: no CPU feature
// detection to get wrong, ~1-2 GB/s, far above what a container's FIFO delivers.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace logship {

// Continues `crc` (0 to start) over `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n);
inline uint32_t crc32c(std::string_view s) { return crc32c_extend(0, s.data(), s.size()); }

}  // namespace logship
