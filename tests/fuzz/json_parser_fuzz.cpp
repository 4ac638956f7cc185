// The json parser on arbitrary lines: no crash, no event lost, failures keep the raw message,
// and what it parsed (any nesting, escapes, numbers) still encodes as valid JSON.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const logship::ProcessorMaker makers[] = {
      logship::fuzz::bind("json", "fz_json", "{}"),
      logship::fuzz::bind("json", "fz_json_keep", "{keep_original: true, target: data}"),
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& m : makers) logship::fuzz::check_parser(m, text);
  return 0;
}
