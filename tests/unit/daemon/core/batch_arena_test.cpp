// The batch arena and the block pool under it: sizes, alignment, reuse, the keep bound.
#include "daemon/core/batch_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/block_pool.h"

namespace logship {
namespace {

TEST(BlockPoolTest, SizesAreWholePagesAtMostAQuarterOverTheRequest) {
  EXPECT_EQ(BlockPool::block_size(0), 4096u);
  EXPECT_EQ(BlockPool::block_size(1), 4096u);
  EXPECT_EQ(BlockPool::block_size(4096), 4096u);
  EXPECT_EQ(BlockPool::block_size(4097), 8192u);
  EXPECT_EQ(BlockPool::block_size(12288), 12288u);
  EXPECT_EQ(BlockPool::block_size(16385), 20480u);
  EXPECT_EQ(BlockPool::block_size(70000), 81920u);
  EXPECT_EQ(BlockPool::block_size((5u << 20) + 1), 6u << 20);
  for (std::size_t n = 1; n < (16u << 20); n = n * 9 / 8 + 1) {
    const std::size_t size = BlockPool::block_size(n);
    ASSERT_GE(size, n);
    ASSERT_EQ(size % 4096, 0u) << n;
    if (n > 16384) {
      ASSERT_LE(size, n + n / 4) << n;
    }
  }
}

TEST(BlockPoolTest, EverySizeUpToThePooledLimitHasItsOwnClass) {
  int expected = 0;
  for (std::size_t size = 4096; size <= BlockPool::kMaxPooledBlock;
       size = BlockPool::block_size(size + 1)) {
    ASSERT_EQ(BlockPool::size_class(size), expected) << size;
    ASSERT_EQ(BlockPool::class_size(expected), size);
    ++expected;
  }
  EXPECT_EQ(expected, BlockPool::kClasses);
  EXPECT_EQ(BlockPool::size_class(BlockPool::block_size(BlockPool::kMaxPooledBlock + 1)), -1);
}

TEST(BlockPoolTest, AGivenBlockIsTakenAgainAndTheBoundIsKept) {
  constexpr std::size_t kBig = 160u << 10;   // a class of its own from kMapFrom on
  BlockPool pool(3 * kBig);
  void* a = pool.take(kBig - 1000);
  void* b = pool.take(kBig);
  void* c = pool.take(kBig - 5000);
  void* d = pool.take(kBig);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 4096, 0u);
  std::memset(a, 0xab, kBig);   // the whole block is usable
  pool.give(a, kBig);
  pool.give(b, kBig);
  pool.give(c, kBig);
  EXPECT_EQ(pool.kept_bytes(), 3 * kBig);
  pool.give(d, kBig);   // over the bound: unmapped, not kept
  EXPECT_EQ(pool.kept_bytes(), 3 * kBig);
  std::set<void*> again{pool.take(kBig), pool.take(kBig), pool.take(kBig)};
  EXPECT_EQ(again, (std::set<void*>{a, b, c}));   // every kept block served again
  EXPECT_EQ(pool.kept_bytes(), 0u);
  void* other = pool.take(BlockPool::kMapFrom);   // another class: freshly mapped
  EXPECT_EQ(again.count(other), 0u);
  for (void* p : again) pool.give(p, kBig);
  pool.give(other, BlockPool::kMapFrom);   // does not fit beside the three under the bound
  EXPECT_EQ(pool.kept_bytes(), 3 * kBig);
  pool.release_kept();
  EXPECT_EQ(pool.kept_bytes(), 0u);
  pool.set_keep_limit(0);
  void* e = pool.take(kBig);
  pool.give(e, kBig);
  EXPECT_EQ(pool.kept_bytes(), 0u);
}

TEST(BlockPoolTest, SmallBlocksComeFromMallocAndAreNeverKept) {
  BlockPool pool(64u << 20);
  void* small = pool.take(100000);
  std::memset(small, 1, 100000);
  pool.give(small, 100000);
  EXPECT_EQ(pool.kept_bytes(), 0u);
}

TEST(BlockPoolTest, BlocksPastThePooledSizesAreNeverKept) {
  BlockPool pool(64u << 20);
  void* big = pool.take(BlockPool::kMaxPooledBlock + 1);
  std::memset(big, 1, BlockPool::kMaxPooledBlock + 1);
  pool.give(big, BlockPool::kMaxPooledBlock + 1);
  EXPECT_EQ(pool.kept_bytes(), 0u);
}

TEST(BatchArenaTest, AllocationsAreAlignedDistinctAndCounted) {
  std::size_t held = 0;
  {
    BatchArena arena(1000);
    std::vector<std::pair<char*, std::size_t>> got;
    for (std::size_t i = 0; i < 2000; ++i) {
      const std::size_t n = 1 + (i * 37) % 3000;
      const std::size_t align = std::size_t{1} << (i % 7);   // 1 .. 64
      auto* p = static_cast<char*>(arena.allocate(n, align));
      ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0u) << i;
      std::memset(p, static_cast<int>(i & 0xff), n);
      got.emplace_back(p, n);
    }
    // Nothing overwritten: each allocation still holds its own byte.
    for (std::size_t i = 0; i < got.size(); ++i) {
      for (std::size_t k = 0; k < got[i].second; ++k) {
        ASSERT_EQ(static_cast<unsigned char>(got[i].first[k]), i & 0xff) << i;
      }
    }
    held = arena.bytes();
    EXPECT_GE(held, 2000u * 1500);
    // Blocks double: a few MB take a handful of blocks, not thousands.
    EXPECT_LE(held, 2u * 2000 * 3000);
  }
}

TEST(BatchArenaTest, OneRequestLargerThanTheNextBlockGetsABlockOfItsOwn) {
  BatchArena arena(100);
  EXPECT_EQ(arena.bytes(), 0u);   // nothing is mapped before the first allocation
  void* p = arena.allocate(100000, 16);
  std::memset(p, 0, 100000);
  EXPECT_EQ(arena.bytes(), 114688u);   // 112 KiB: 100,000 bytes and the block's header
  void* big = arena.allocate(6u << 20, 4096);
  std::memset(big, 0, 6u << 20);
  EXPECT_EQ(arena.bytes(), 114688u + (7u << 20));
  // The big request does not make the next block as big: it is at most the largest pooled size.
  void* more = arena.allocate(1u << 20, 16);
  std::memset(more, 0, 1u << 20);
  EXPECT_LE(arena.bytes(), 114688u + (7u << 20) + BlockPool::kMaxPooledBlock);
}

TEST(BatchArenaTest, ABatchCountsItsBlocks) {
  Batch b(std::make_shared<SourceInfo>(), 4, 1000);
  const std::size_t empty = b.byte_size();
  EXPECT_GE(empty, 4096 + sizeof(Batch));
  std::string line(50000, 'x');
  b.add_event().message = b.copy(line);
  EXPECT_GT(b.byte_size(), empty + 50000);
  EXPECT_EQ(b.events().front().message, line);
}

}  // namespace
}  // namespace logship
