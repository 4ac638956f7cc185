#pragma once
// Where batch arenas get their memory: whole pages mapped apart from the malloc heap, in sizes
// a quarter of a power of two apart, with freed blocks kept for reuse up to a bound.
//
// Why not malloc: a batch lives for milliseconds, the state a reader makes beside it (a file's
// tail, a checkpoint entry) for hours. From one heap they interleave, and every batch freed
// leaves a hole between long-lived chunks that no trim gives back (10,000 small files read at
// once left 40 MB of such holes). Why keep freed blocks: a busy pipeline frees and needs the
// same sizes again at once, and a kept block's pages are already faulted in.
#include <cstddef>
#include <mutex>

namespace logship {

class BlockPool {
 public:
  // Sizes 4 KiB .. 4 MiB are pooled; larger blocks are mapped and unmapped as they come.
  static constexpr std::size_t kMinBlock = std::size_t{4} << 10;
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
  // A block of block_size(n) bytes, page-aligned. Throws std::bad_alloc when no memory is left.
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
