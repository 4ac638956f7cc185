// The JSON string encoder must always produce valid JSON, and must round-trip valid UTF-8 exactly.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/core/json_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out;
  logship::json::append_string(out, in);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(out).get(doc) != simdjson::SUCCESS) __builtin_trap();
  std::string_view back;
  if (doc.get_string().get(back) != simdjson::SUCCESS) __builtin_trap();
  if (simdjson::validate_utf8(in.data(), in.size()) && back != in) __builtin_trap();
  return 0;
}
