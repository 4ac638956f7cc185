// OTLP protobuf decoder: any bytes either decode or are refused with a reason, never a crash or
// a read outside the body; every string of a decoded event lives in the batch's arena.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inputs/otlp/otlp_decoder.h"

using namespace logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exactly-sized heap copy, so a read past the body is an ASan report.
  std::vector<char> body(data, data + size);
  Batch batch(std::make_shared<SourceInfo>());
  const std::string why =
      plugins::otlp_in::decode_protobuf(std::string_view(body.data(), size), batch, 1);
  if (!why.empty()) return 0;
  auto outside = [&](std::string_view s) {
    return !s.empty() && s.data() >= body.data() && s.data() < body.data() + size;
  };
  for (const Event& e : batch.events()) {
    if (e.time_ns == 0 || outside(e.message)) __builtin_trap();
    for (const Field& f : e.fields) {
      if (outside(f.key) || outside(f.value.s)) __builtin_trap();
    }
  }
  return 0;
}
