// The regex parser's built-in formats (access logs, syslog) on arbitrary lines: no crash, no
// event lost, failures keep the raw message, typed captures encode as valid JSON.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const logship::ProcessorMaker makers[] = {
      logship::fuzz::bind("regex", "fz_rx_combined", "{format: combined}"),
      logship::fuzz::bind("regex", "fz_rx_syslog", "{format: syslog}"),
      logship::fuzz::bind("regex", "fz_rx_3164", "{format: syslog_rfc3164, keep_original: false}"),
  };
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& m : makers) logship::fuzz::check_parser(m, text);
  return 0;
}
