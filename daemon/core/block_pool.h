#pragma once
// Where batch arenas get their memory: blocks in sizes a quarter of a power of two apart; from
// 128 KiB on, pages mapped for the block and kept for reuse, up to a bound, once freed.
//
// Why: glibc maps every allocation from 128 KiB on (M_MMAP_THRESHOLD, fixed in main.cpp so RSS
// follows what is live) and unmaps it when freed, so each big batch faulted its pages in afresh:
// page faults were a fifth of a busy pipeline's CPU. A busy pipeline frees and needs the same
// sizes again at once; a kept block's pages are already there. Smaller blocks come from malloc,
// whose free lists already reuse them (and whose holes ASan checks).
#include <cstddef>
#include <mutex>

namespace logship {

class BlockPool {
 public:
  // Blocks of 128 KiB .. 4 MiB are mapped and kept; larger ones are mapped and unmapped as they
  // come, smaller ones come from malloc.
  static constexpr std::size_t kMinBlock = std::size_t{4} << 10;
  static constexpr std::size_t kMapFrom = std::size_t{128} << 10;
  static constexpr std::size_t kMaxPooledBlock = std::size_t{4} << 20;
  static constexpr std::size_t kDefaultKeep = std::size_t{8} << 20;

  static BlockPool& global();
  explicit BlockPool(std::size_t keep_bytes = kDefaultKeep) : keep_bytes_(keep_bytes) {}
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // The size a request of `n` bytes gets: whole pages, at most a quarter more than asked for
  // (4, 8, 12, 16, 20, 24, 28, 32, 40, 48 ... KiB), so that few sizes serve every request.
  static std::size_t block_size(std::size_t n);
  // A block of block_size(n) bytes, aligned for any object (page-aligned from kMapFrom on).
  // Throws std::bad_alloc when no memory is left.
  void* take(std::size_t n);
  // Gives back a block take(n) returned (`n` as given to take, or its block_size).
  void give(void* block, std::size_t n);
  // Unmaps every kept block (an idle reader calls it, as it trims the heap).
  void release_kept();
  std::size_t kept_bytes() const;

  static constexpr int kClasses = 36;   // 4, 8, 12, 16 KiB, then four per doubling to 4 MiB
  // The class of a block_size() up to kMaxPooledBlock (0 .. kClasses - 1), -1 past it; and back.
  static int size_class(std::size_t block_size);
  static std::size_t class_size(int size_class);
  // How many bytes of freed blocks may be kept (blocks kept past it are unmapped at once).
  void set_keep_limit(std::size_t bytes);

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  mutable std::mutex mu_;
  FreeBlock* kept_[kClasses] = {};
  std::size_t kept_bytes_ = 0;
  std::size_t keep_bytes_;
};

}  // namespace logship
