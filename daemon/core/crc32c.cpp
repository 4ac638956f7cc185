#include "daemon/core/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace logship {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;   // reflected Castagnoli polynomial

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = make_tables();

uint32_t software(uint32_t crc, const void* data, std::size_t n);

#if defined(__x86_64__)
// SSE4.2's crc32 instruction computes exactly this polynomial, 8 bytes at a time: ~10x the table
// version, which showed as a quarter of the CPU of a disk-buffered pipeline.
__attribute__((target("sse4.2"))) uint32_t hardware(uint32_t crc, const void* data,
                                                    std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

using Impl = uint32_t (*)(uint32_t, const void*, std::size_t);
Impl pick() {
  __builtin_cpu_init();   // may run before the CPU model's own constructor
  return __builtin_cpu_supports("sse4.2") ? &hardware : &software;
}
#endif

}  // namespace

uint32_t crc32c_extend(uint32_t crc, const void* data, std::size_t n) {
#if defined(__x86_64__)
  static const Impl impl = pick();
  return impl(crc, data, n);
#else
  return software(crc, data, n);
#endif
}

uint32_t crc32c_software(uint32_t crc, const void* data, std::size_t n) {
  return software(crc, data, n);
}

namespace {

uint32_t software(uint32_t crc, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (n >= 8) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;   // little-endian host assumed (x86_64/aarch64), as the spool format is LE anyway
    c = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xFF] ^ kTables[2][(hi >> 8) & 0xFF] ^
        kTables[1][(hi >> 16) & 0xFF] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = kTables[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

}  // namespace
}  // namespace logship
