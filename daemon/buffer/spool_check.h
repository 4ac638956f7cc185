#pragma once
// Offline check and repair of a spool directory (an output's disk buffer, a docker_plugin
// container spool), for `logship fsck`. It applies the rules the daemon applies when it opens
// and reads a spool, but reports instead of counting, and repairs only when asked:
//   - a torn or corrupt run at the end of the last segment is cut (the daemon cuts it at open);
//   - a corrupt run inside a segment is what readers skip; repair takes it out by splitting the
//     segment, the records after it moving to a segment of their own whose name is their
//     offset, so every offset (and the checkpoint) keeps its meaning;
//   - a corrupt run at the end of an earlier segment is truncated away.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/status.h"

namespace logship {

struct SpoolDamage {
  std::string segment;     // file
  uint64_t offset = 0;     // spool offset where the bad bytes start
  uint64_t bytes = 0;
  bool tail = false;       // runs to the end of its segment
};

struct SpoolCheck {
  std::string dir;
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;                   // of records that verify
  uint64_t begin = 0, end = 0;          // offsets of the first and past the last byte
  std::vector<SpoolDamage> damage;
  // Records at or after the committed offset.
  uint64_t undelivered_records = 0;
  uint64_t undelivered_bytes = 0;
};

// A record that verifies, at spool offset `at`.
using SpoolRecordFn = std::function<void(uint64_t at, std::string_view payload)>;

// Scans every segment of `dir`. `on_record` (optional) sees each verified record at or after
// `committed`, in order. Fails only when the directory or a segment cannot be read.
Result<SpoolCheck> check_spool(const std::string& dir, uint64_t committed,
                               const SpoolRecordFn& on_record = {});

// Takes the damage of `c` (from check_spool of the same, unchanged directory) out, as the
// header says. Returns what it did, one line each.
Result<std::vector<std::string>> repair_spool(const SpoolCheck& c);

}  // namespace logship
