#pragma once
// A thin owner of an sd_journal handle: open, filter, position (with the resume rules of a saved
// cursor), iterate and wait. Single-threaded, like sd_journal itself.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/position.h"
#include "daemon/core/status.h"

typedef struct sd_journal sd_journal;

namespace logship::plugins::journald {

// Position.offset values: whether the cursor's entry was delivered (resume after it) or is the
// first one still held back, e.g. the first part of an unfinished Docker line (resume at it).
inline constexpr uint64_t kAfterCursor = 0;
inline constexpr uint64_t kAtCursor = 1;

struct JournalSource {
  std::string directory;                // both empty: the local system journal
  std::vector<std::string> files;
};

// The current entry of a journal as the mapper reads it; JournalReader is the real one, tests
// may supply their own.
class EntrySource {
 public:
  virtual ~EntrySource() = default;
  virtual void restart_data() = 0;
  // The next "FIELD=value" item of the current entry; false at its end. The view is valid until
  // the next call.
  virtual bool next_data(std::string_view* item) = 0;
  virtual uint64_t realtime_usec() const = 0;
  // The current entry's cursor; "" when there is none.
  virtual std::string cursor() const = 0;
};

struct StartResult {
  bool cursor_lost = false;   // the saved entry is gone (vacuumed, other journal): from head
};

class JournalReader final : public EntrySource {
 public:
  JournalReader() = default;
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;
  ~JournalReader();

  // Journal files that cannot be opened (missing, truncated, corrupt) are left out and listed in
  // *skipped with the reason. With `files` it is an error only when no file is left.
  Status open(const JournalSource& src,
              std::vector<std::pair<std::string, std::string>>* skipped);
  bool is_open() const { return j_ != nullptr; }
  void close();

  // Installs the match program (see build_match_program) and positions the reader: after (or at)
  // the saved cursor when it still exists, else at the head (cursor_lost), else by `from_tail`.
  Status start(const std::vector<std::string>& match_program, const Position* saved,
               bool from_tail, StartResult* result);

  // 1 = on a new entry, 0 = at the end, <0 = -errno.
  int next();
  // sd-journal keeps the current entry when next() returns 0, so cursor() then still names the
  // last entry read.
  std::string cursor() const override;
  uint64_t realtime_usec() const override;
  void restart_data() override;
  bool next_data(std::string_view* item) override;
  // Waits for changes up to `timeout_us`; returns the sd_journal_wait result.
  int wait(uint64_t timeout_us);

 private:
  sd_journal* j_ = nullptr;
  bool pending_ = false;   // start() left the reader on an entry that next() must return
};

}  // namespace logship::plugins::journald
