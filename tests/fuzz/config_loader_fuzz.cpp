// Any bytes as a config: errors or a config, never a crash, a hang or a leak.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/registry/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  logship::config::Errors errors("fuzz.yaml");
  auto cfg = logship::config::load_config_text(text, "fuzz.yaml", errors);
  if (!cfg && errors.empty()) __builtin_trap();   // a failed load must say why
  return 0;
}
