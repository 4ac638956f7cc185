// A checkpoint file of any content parses or is rejected; what parses serializes and parses back
// to the same positions.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "daemon/state/checkpoint_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, logship::Position> m;
  if (!logship::CheckpointStore::parse(text, &m)) return 0;
  std::map<std::string, logship::Position> again;
  if (!logship::CheckpointStore::parse(logship::CheckpointStore::serialize(m), &again)) __builtin_trap();
  if (again != m) __builtin_trap();
  return 0;
}
