#pragma once
// The `format` option of the outputs that write one record per event (file, stdout): the whole
// event as a JSON object, or the message alone.
#include "config/enum_option.h"

namespace logship::plugins {

enum class RecordFormat { kJson, kRaw };
constexpr config::EnumNames<RecordFormat, 2> enum_names(RecordFormat) {
  return {{{"json", RecordFormat::kJson}, {"raw", RecordFormat::kRaw}}};
}

}  // namespace logship::plugins
