// The logfmt parser on arbitrary lines: no crash, no event lost, failures keep the raw message,
// and parsed fields (with auto typing) encode as valid JSON.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const logship::ProcessorMaker makers[] = {
      logship::fuzz::bind("logfmt", "fz_logfmt", "{}"),
      logship::fuzz::bind("logfmt", "fz_logfmt_types",
                          "{auto_types: true, types: {code: string, took: double}}"),
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& m : makers) logship::fuzz::check_parser(m, text);
  return 0;
}
