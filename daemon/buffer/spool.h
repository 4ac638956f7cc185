#pragma once
// A bounded, append-only disk spool: the docker_plugin input's buffer between a container's FIFO
// and the pipeline, and the disk buffer of an output.
//
// A producer appends; a consumer reads at its own pace through a SpoolReader; acks (commit) free
// room. The producer therefore never waits for the consumer, and a kill -9 loses nothing that was
// written here (a power loss nothing that was also sync()ed).
//
// Layout: <dir>/<base offset, 20 digits>.seg, each a run of records
//   [uint32 LE length][uint32 LE crc32c(length bytes + payload)][payload]
// Offsets are global (segment base + position in the segment) and only grow, so a checkpoint
// is one integer. Acknowledged segments are kept up to `keep_bytes` (they serve ReadLogs).
//
// When the un-acknowledged bytes reach `max_bytes`: kBlock refuses the append (the caller stops
// reading the FIFO: backpressure to the container, like Docker's mode=blocking); kDropOldest
// deletes the oldest un-acknowledged segment and counts its records (or their weight: an output
// buffer counts events) as dropped.
//
// Corruption: a torn tail of the last segment (crash mid-write) is cut at open; a record with a
// bad length or checksum is skipped by scanning for the next record that verifies. Both counted.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/status.h"

namespace logship {

enum class FullPolicy { kBlock, kDropOldest };

struct SpoolOptions {
  uint64_t max_bytes = 256ull << 20;
  uint64_t segment_bytes = 8ull << 20;
  uint64_t keep_bytes = 0;
  FullPolicy when_full = FullPolicy::kBlock;
  // sync() makes data durable; with this set, a segment is also synced before it is closed and
  // the directory after a segment is created, so a synced offset survives a power loss.
  bool durable = false;
  // What a record weighs when dropped (default 1): given the payload's first bytes (up to 16).
  std::function<uint64_t(std::string_view prefix)> weigh;
  // Where drops and corruption are counted (may be null) and the component named in logs.
  std::atomic<uint64_t>* dropped_counter = nullptr;
  std::atomic<uint64_t>* corrupt_counter = nullptr;
  std::string log_component = "spool";
};

struct SpoolStats {
  uint64_t dropped_records = 0;   // by weight
  uint64_t corrupt_regions = 0;   // bad records skipped by readers that count (the pipeline)
  uint64_t corrupt_bytes = 0;
  uint64_t torn_tail_bytes = 0;   // cut from the last segment at open
};

constexpr std::size_t kRecordHeader = 8;
// Larger lengths are never written, so a header claiming one is corrupt.
constexpr uint32_t kMaxRecord = 256u << 20;

// The file of the segment at `base`: "<base, 20 digits>.seg".
std::string segment_file_name(uint64_t base);
// Its base, when `name` is a segment's file name.
bool parse_segment_file_name(std::string_view name, uint64_t* base);
// When the `avail` bytes at `p` begin with a whole record whose length and CRC verify: true,
// with its payload length.
bool verify_record(const char* p, uint64_t avail, uint32_t* len);

class Spool {
 public:
  // `committed`: everything before this offset was delivered (the checkpoint). An empty spool
  // starts at `committed`, so offsets never go backwards even if the directory was wiped.
  static Result<std::unique_ptr<Spool>> open(const std::string& dir, const SpoolOptions& o,
                                             uint64_t committed);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  enum class Append { kOk, kFull, kError };
  // Buffers one record; readers see it after flush(). kFull only under kBlock (nothing
  // buffered then). `force` ignores the bound (final drain on StopLogging, at most a pipe's worth).
  Append append(std::string_view payload, bool force = false);
  // append() and flush() in one step. On a write error the record is not kept (kError), so the
  // caller may hand it elsewhere without it reappearing here later.
  Append append_now(std::string_view payload, bool force = false);
  // Writes the buffered records with one write(2).
  Status flush();
  // flush(), then fdatasync: everything appended so far survives a power loss.
  Status sync();
  bool has_room(std::size_t payload_bytes) const;

  // Everything before `offset` was delivered.
  void commit(uint64_t offset);
  // Waits until data past `cursor` is readable, up to `timeout`. True when there is.
  bool wait(uint64_t cursor, std::chrono::milliseconds timeout) const;
  void notify_all() const { cv_.notify_all(); }

  uint64_t begin() const;
  uint64_t end() const;          // flushed end
  uint64_t committed() const;
  uint64_t unacked_bytes() const;
  uint64_t disk_bytes() const;
  SpoolStats stats() const;
  const std::string& dir() const { return dir_; }

  // Used by SpoolReader: the segment holding `cursor` or the first after it.
  struct SegmentView {
    uint64_t base = 0;
    uint64_t size = 0;
    std::string path;
  };
  bool locate(uint64_t cursor, SegmentView* out) const;
  void note_corrupt(uint64_t bytes) const;
  // The pipeline's reader took everything before `cursor`: dropping it later loses nothing
  // (it is on its way), so it is not counted as dropped.
  void note_read(uint64_t cursor) const;

 private:
  struct Segment {
    uint64_t base = 0;
    uint64_t size = 0;      // flushed bytes
    uint64_t weight = 0;    // known only for segments written or scanned by this process
  };
  Spool(std::string dir, const SpoolOptions& o) : dir_(std::move(dir)), o_(o) {}
  std::string path_of(uint64_t base) const;
  Status open_segments(uint64_t committed);
  Status start_segment_locked(uint64_t base);
  Append append_locked(std::string_view payload, bool force);
  Status flush_locked();
  void drop_oldest_locked(std::size_t need);
  void trim_retained_locked();
  uint64_t end_locked() const { return segments_.back().base + segments_.back().size; }
  uint64_t weigh(std::string_view payload) const;
  uint64_t weigh_records(const Segment& s, uint64_t from) const;

  const std::string dir_;
  const SpoolOptions o_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<Segment> segments_;   // sorted by base; never empty after open
  int write_fd_ = -1;               // the last segment
  std::string pending_;             // appended, not yet written
  uint64_t pending_weight_ = 0;
  uint64_t committed_ = 0;
  mutable uint64_t read_ = 0;
  mutable SpoolStats stats_;
};

// A sequential reader with its own descriptor and read-ahead, so reads take the spool's lock
// only to look up segment bounds.
class SpoolReader {
 public:
  // `count_corruption`: this reader's skips go to the spool's stats (only the pipeline's do, so
  // a ReadLogs scan does not count the same bad record again).
  SpoolReader(const Spool& spool, bool count_corruption)
      : spool_(spool), count_(count_corruption) {}
  ~SpoolReader();
  SpoolReader(const SpoolReader&) = delete;
  SpoolReader& operator=(const SpoolReader&) = delete;

  // The next good record at or after *cursor: *at is its offset, *cursor moves past it.
  // The view is valid until the next call. False when nothing more is readable now.
  bool next(uint64_t* cursor, uint64_t* at, std::string_view* payload);

 private:
  bool ensure(uint64_t pos, uint64_t n, uint64_t seg_size);
  bool valid_at(uint64_t pos, uint64_t seg_size, uint32_t* len);

  const Spool& spool_;
  const bool count_;
  int fd_ = -1;
  uint64_t fd_base_ = UINT64_MAX;
  std::string buf_;
  uint64_t buf_pos_ = 0;   // segment-relative offset of buf_[0]
};

}  // namespace logship
