#pragma once
// A batch's arena: bump allocation in blocks taken from the BlockPool, each twice the last,
// all given back at once when the batch dies. Counts the bytes it holds so queues can be
// bounded in real memory.
#include <cstddef>
#include <memory_resource>

namespace logship {

class BatchArena final : public std::pmr::memory_resource {
 public:
  // `first_block`: bytes the batch is expected to need; the first block holds at least that.
  explicit BatchArena(std::size_t first_block);
  ~BatchArena() override;
  BatchArena(const BatchArena&) = delete;
  BatchArena& operator=(const BatchArena&) = delete;

  // Bytes of the blocks held (what the batch costs in memory).
  std::size_t bytes() const { return bytes_; }

 private:
  struct Block {   // at the start of each block
    Block* previous;
    std::size_t size;
  };
  void* do_allocate(std::size_t n, std::size_t align) override;
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const memory_resource& o) const noexcept override { return this == &o; }
  void* from_new_block(std::size_t n, std::size_t align);

  Block* last_ = nullptr;
  char* next_ = nullptr;
  char* end_ = nullptr;
  std::size_t next_block_;
  std::size_t bytes_ = 0;
};

}  // namespace logship
