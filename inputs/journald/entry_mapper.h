#pragma once
// Turns journal entries into events, and joins the parts of long lines Docker's journald driver
// split (CONTAINER_PARTIAL_MESSAGE=true on every part but the last).
//
// Mapped fields: MESSAGE -> message (bytes as they are), _SOURCE_REALTIME_TIMESTAMP or the
// entry's realtime -> time, PRIORITY -> severity (syslog keyword), SYSLOG_IDENTIFIER ->
// syslog_identifier, _SYSTEMD_UNIT -> unit, _PID -> pid, _HOSTNAME -> hostname, _BOOT_ID ->
// boot_id, and Docker's CONTAINER_ID_FULL (else CONTAINER_ID) -> container_id, CONTAINER_NAME ->
// container_name, IMAGE_NAME -> image, CONTAINER_TAG -> container_tag. Docker entries get the
// stream from PRIORITY (6 stdout, 3 stderr) as the docker input does.
//
// The container values are per-event fields, not SourceInfo tags: one journal interleaves many
// containers, and a journal has one cursor, so it is one checkpointed stream.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/clock.h"
#include "inputs/journald/journal_reader.h"

namespace logship::plugins::journald {

struct MapperOptions {
  std::vector<std::string> include_fields;
  bool all_fields = false;
  bool trusted_fields = false;
  std::chrono::milliseconds partial_timeout{5000};
  std::size_t partial_max_size = 1 << 20;
  std::size_t max_held_lines = 1024;
};

class EntryMapper {
 public:
  explicit EntryMapper(MapperOptions o) : o_(std::move(o)) {}

  // Reads the current entry of `src`: adds an event to `b` (true), or holds it as the part of
  // an unfinished line (false).
  bool map(EntrySource& src, Batch& b, TimePoint now);
  // Emits held lines whose first part is older than the timeout (all when `force`); returns
  // how many.
  std::size_t flush_expired(Batch& b, TimePoint now, bool force);
  // When lines are held, the cursor of the first part of the oldest one: the position may not
  // pass it. nullptr when nothing is held.
  const std::string* oldest_held_cursor() const;
  std::size_t held_lines() const { return held_.size(); }
  // Heap the held lines take (charged to the memory budget); O(held lines).
  std::size_t held_bytes() const {
    std::size_t n = held_.capacity() * sizeof(Held);
    for (const Held& h : held_) {
      for (const std::string* s : {&h.key, &h.data, &h.cursor, &h.priority, &h.identifier,
                                   &h.container_id, &h.container_name, &h.image,
                                   &h.container_tag}) {
        n += s->capacity() > kInlineString ? s->capacity() : 0;
      }
    }
    return n;
  }
  std::optional<TimePoint> next_deadline() const;

  // Drops held parts (the reader is repositioned before them).
  void reset() { held_.clear(); }
  uint64_t merged_lines() const { return merged_; }
  uint64_t timed_out_lines() const { return timed_out_; }

 private:
  static inline const std::size_t kInlineString = std::string().capacity();   // no heap below
  struct Held {
    std::string key;       // container id + '\0' + priority
    std::string data;
    std::string cursor;    // of the first part
    int64_t time_ns = 0;   // of the first part
    TimePoint since;
    Stream stream = Stream::kNone;
    std::string priority, identifier, container_id, container_name, image, container_tag;
  };
  void emit_held(Batch& b, Held& h);

  MapperOptions o_;
  std::vector<Held> held_;        // in arrival order: front is the oldest
  std::vector<Field> extras_;     // reused per entry
  std::string key_;               // reused per entry
  uint64_t merged_ = 0;
  uint64_t timed_out_ = 0;
};

// "err" for 3 etc.; empty for values outside 0..7.
std::string_view severity_name(int priority);

}  // namespace logship::plugins::journald
