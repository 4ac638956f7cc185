#include "daemon/core/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace logship {
namespace {

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);   // RFC 3720 B.4
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  // The hardware path (where the CPU has one) and the table agree on every length and split.
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (std::size_t n = 0; n <= data.size(); n += 7) {
    EXPECT_EQ(crc32c(std::string_view(data).substr(0, n)), crc32c_software(0, data.data(), n)) << n;
    const uint32_t head = crc32c_extend(0, data.data(), n / 3);
    EXPECT_EQ(crc32c_extend(head, data.data() + n / 3, n - n / 3),
              crc32c_software(0, data.data(), n)) << n;
  }
  // Extending in pieces equals one pass.
  std::string s = "the quick brown fox jumps over the lazy dog";
  EXPECT_EQ(crc32c_extend(crc32c_extend(0, s.data(), 13), s.data() + 13, s.size() - 13), crc32c(s));
}

}  // namespace
}  // namespace logship
