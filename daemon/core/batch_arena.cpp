#include "daemon/core/batch_arena.h"

#include <algorithm>
#include <cstdint>

#include "daemon/core/block_pool.h"

namespace logship {
namespace {

char* align_up(char* p, std::size_t align) {
  const auto v = reinterpret_cast<std::uintptr_t>(p);
  return reinterpret_cast<char*>((v + align - 1) & ~(static_cast<std::uintptr_t>(align) - 1));
}

}  // namespace

BatchArena::BatchArena(std::size_t first_block)
    : next_block_(BlockPool::block_size(first_block + sizeof(Block))) {}

BatchArena::~BatchArena() {
  for (Block* b = last_; b != nullptr;) {
    Block* previous = b->previous;
    BlockPool::global().give(b, b->size);
    b = previous;
  }
}

void* BatchArena::do_allocate(std::size_t n, std::size_t align) {
  char* p = align_up(next_, align);
  if (next_ != nullptr && p <= end_ && static_cast<std::size_t>(end_ - p) >= n) {
    next_ = p + n;
    return p;
  }
  return from_new_block(n, align);
}

void* BatchArena::from_new_block(std::size_t n, std::size_t align) {
  // Large enough for `n` at any alignment up to a page, which blocks are aligned to.
  const std::size_t need = sizeof(Block) + n + (align > alignof(Block) ? align : 0);
  const std::size_t size = BlockPool::block_size(need > next_block_ ? need : next_block_);
  auto* b = static_cast<Block*>(BlockPool::global().take(size));
  b->previous = last_;
  b->size = size;
  last_ = b;
  bytes_ += size;
  // Doubling keeps the number of blocks of a big batch logarithmic, up to the largest pooled
  // size: one oversized request gets a block of its own without making every later block as big.
  next_block_ = std::min(size * 2, BlockPool::kMaxPooledBlock);
  char* start = reinterpret_cast<char*>(b) + sizeof(Block);
  end_ = reinterpret_cast<char*>(b) + size;
  char* p = align_up(start, align);
  next_ = p + n;
  return p;
}

}  // namespace logship
