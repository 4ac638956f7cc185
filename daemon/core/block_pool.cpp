#include "daemon/core/block_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <new>

#if defined(__SANITIZE_ADDRESS__)   // GCC
#define LOGSHIP_ASAN 1
#elif defined(__has_feature)        // clang
#if __has_feature(address_sanitizer)
#define LOGSHIP_ASAN 1
#endif
#endif
#if defined(LOGSHIP_ASAN)
#include <sanitizer/asan_interface.h>
#define LOGSHIP_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define LOGSHIP_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define LOGSHIP_POISON(p, n) ((void)(p), (void)(n))
#define LOGSHIP_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace logship {
namespace {

void* map_block(std::size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

// munmap of a whole mapping we made fails only on a bad address, which would be our bug; the
// block is lost to the process either way, so there is nothing to do on failure.
void unmap_block(void* p, std::size_t size) { (void)::munmap(p, size); }

}  // namespace

std::size_t BlockPool::class_size(int c) {
  if (c < 4) return kMinBlock * static_cast<std::size_t>(c + 1);
  const int doubling = (c - 4) / 4;   // 0: 16 .. 32 KiB
  const std::size_t below = (4 * kMinBlock) << doubling;
  return below + below / 4 * static_cast<std::size_t>((c - 4) % 4 + 1);
}

BlockPool& BlockPool::global() {
  // Never destroyed: batches may die on other threads while the process exits.
  static BlockPool* pool = new BlockPool();
  return *pool;
}

BlockPool::~BlockPool() { release_kept(); }

std::size_t BlockPool::block_size(std::size_t n) {
  if (n <= kMinBlock) return kMinBlock;
  const std::size_t below = std::bit_floor(n - 1);   // the power of two under n
  const std::size_t step = std::max(below / 4, kMinBlock);
  return (n + step - 1) / step * step;
}

int BlockPool::size_class(std::size_t size) {
  if (size > kMaxPooledBlock) return -1;
  if (size <= 4 * kMinBlock) return static_cast<int>(size / kMinBlock) - 1;   // 0 .. 3
  const std::size_t below = std::bit_floor(size - 1);                         // 16 KiB and up
  const auto quarter = static_cast<int>((size - below) / (below / 4));         // 1 .. 4
  return 3 + 4 * (std::countr_zero(below) - std::countr_zero(4 * kMinBlock)) + quarter;
}

void* BlockPool::take(std::size_t n) {
  const std::size_t size = block_size(n);
  if (size < kMapFrom) return ::operator new(size);
  const int c = size_class(size);
  if (c >= 0) {
    std::lock_guard lock(mu_);
    if (FreeBlock* b = kept_[c]) {
      LOGSHIP_UNPOISON(b, size);
      kept_[c] = b->next;
      kept_bytes_ -= size;
      return b;
    }
  }
  return map_block(size);
}

void BlockPool::give(void* block, std::size_t n) {
  if (block == nullptr) return;
  const std::size_t size = block_size(n);
  if (size < kMapFrom) {
    ::operator delete(block);
    return;
  }
  const int c = size_class(size);
  if (c >= 0) {
    std::lock_guard lock(mu_);
    if (kept_bytes_ + size <= keep_bytes_) {
      auto* b = static_cast<FreeBlock*>(block);
      b->next = kept_[c];
      kept_[c] = b;
      kept_bytes_ += size;
      // A kept block is not for reading: under ASan a use after its batch died still reports.
      LOGSHIP_POISON(b, size);
      return;
    }
  }
  unmap_block(block, size);
}

void BlockPool::release_kept() {
  FreeBlock* lists[kClasses];
  {
    std::lock_guard lock(mu_);
    for (int c = 0; c < kClasses; ++c) {
      lists[c] = kept_[c];
      kept_[c] = nullptr;
    }
    kept_bytes_ = 0;
  }
  for (int c = 0; c < kClasses; ++c) {
    const std::size_t size = class_size(c);
    for (FreeBlock* b = lists[c]; b != nullptr;) {
      LOGSHIP_UNPOISON(b, size);
      FreeBlock* next = b->next;
      unmap_block(b, size);
      b = next;
    }
  }
}

void BlockPool::set_keep_limit(std::size_t bytes) {
  {
    std::lock_guard lock(mu_);
    keep_bytes_ = bytes;
    if (kept_bytes_ <= keep_bytes_) return;
  }
  release_kept();
}

std::size_t BlockPool::kept_bytes() const {
  std::lock_guard lock(mu_);
  return kept_bytes_;
}

}  // namespace logship
