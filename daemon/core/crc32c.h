#pragma once
// CRC-32C (Castagnoli), the checksum of spool and disk-buffer records. The SSE4.2 instruction
// where the CPU has it, else software slicing-by-8 (~1-2 GB/s).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace logship {

// Continues `crc` (0 to start) over `data`.
uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n);
inline uint32_t crc32c(std::string_view s) { return crc32c_extend(0, s.data(), s.size()); }
// The portable version, whatever the CPU (tests compare the two).
uint32_t crc32c_software(uint32_t crc, const void* data, std::size_t n);

}  // namespace logship
