#include "inputs/otlp/bounded_gunzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace logship::plugins::otlp_in {
namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = in.size();
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = out.size();
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(BoundedGunzip, RoundTripsUpToTheCap) {
  std::string in;
  for (int i = 0; i < 20000; ++i) in += "line " + std::to_string(i) + "\n";
  std::string out;
  EXPECT_EQ(gunzip_bounded(gzip(in), in.size(), &out), GunzipResult::kOk);
  EXPECT_EQ(out, in);
  EXPECT_EQ(gunzip_bounded(gzip(in), in.size() - 1, &out), GunzipResult::kTooLarge);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(gunzip_bounded(gzip(""), 10, &out), GunzipResult::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(BoundedGunzip, BombStopsAtTheCap) {
  // 64 MiB of zeros compresses to about 64 KiB; no more than the 8 MiB cap is ever held.
  std::string zeros(64u << 20, '\0');
  std::string one = gzip(zeros);
  ASSERT_LT(one.size(), 100u * 1024);
  std::string out;
  EXPECT_EQ(gunzip_bounded(one, 8u << 20, &out), GunzipResult::kTooLarge);
  EXPECT_TRUE(out.empty());
}

TEST(BoundedGunzip, BrokenStreamsAreMalformed) {
  std::string z = gzip("hello world, hello world");
  std::string out;
  EXPECT_EQ(gunzip_bounded(z.substr(0, z.size() - 3), 1000, &out), GunzipResult::kMalformed);
  EXPECT_EQ(gunzip_bounded(z + "trailing", 1000, &out), GunzipResult::kMalformed);
  EXPECT_EQ(gunzip_bounded("not gzip at all", 1000, &out), GunzipResult::kMalformed);
  EXPECT_EQ(gunzip_bounded("", 1000, &out), GunzipResult::kMalformed);
  std::string flipped = z;
  flipped[flipped.size() - 6] ^= 0x55;   // CRC
  EXPECT_EQ(gunzip_bounded(flipped, 1000, &out), GunzipResult::kMalformed);
}

}  // namespace
}  // namespace logship::plugins::otlp_in
