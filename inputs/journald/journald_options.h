#pragma once
// Options of the journald input and the match program they compile to.
#include <cstdint>
#include <string>
#include <vector>

#include "config/enum_option.h"
#include "config/option_schema.h"
#include "daemon/core/status.h"

namespace logship::plugins::journald {

// Where to start when there is no saved cursor.
enum class ReadFrom { kHead, kTail };
constexpr config::EnumNames<ReadFrom, 2> enum_names(ReadFrom) {
  return {{{"head", ReadFrom::kHead}, {"tail", ReadFrom::kTail}}};
}

struct JournaldOptions {
  // Where to read: the local system journal unless `directory` or `files` is given.
  std::string directory;
  std::vector<std::string> files;
  ReadFrom read_from = ReadFrom::kTail;
  bool follow = true;
  // Filters, combined as journalctl combines its arguments: each list is one group whose terms
  // are ORed, and the groups are ANDed.
  std::vector<std::string> matches;         // journalctl syntax: FIELD=value ... "+" ...
  std::vector<std::string> units;
  std::vector<std::string> identifiers;
  std::vector<std::string> container_names;
  std::string priority;                     // "err" (0..3) or "warning..err" / "3..4"
  // Event fields beyond the mapped set.
  std::vector<std::string> include_fields;
  bool all_fields = false;
  bool trusted_fields = false;
  // Docker's journald driver splits long lines; parts are joined into one event.
  config::Millis partial_timeout{5000};
  config::ByteSize partial_max_size{1 << 20};
  int64_t batch_events = 1024;
  config::ByteSize batch_bytes{1 << 20};
  std::string stream_key;

  static const config::OptionSchema<JournaldOptions>& schema();
  Status validate() const;
};

// The sd_journal match program: "FIELD=value" adds a match, "+" a disjunction, "&&" a
// conjunction. Invalid only on options validate() would reject.
Result<std::vector<std::string>> build_match_program(const JournaldOptions& o);

// "err" -> {0,3}; "3..5" / "warning..err" -> {3,5} (either order). False when malformed.
bool parse_priority_range(const std::string& s, int* lo, int* hi);

// journalctl's unit name mangling: "nginx" -> "nginx.service"; names with a dot stay.
std::string mangle_unit(const std::string& unit);

}  // namespace logship::plugins::journald
