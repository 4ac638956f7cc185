#pragma once
// The options of every input built on the tailer (docker, cri, file), declared once.
#include <cstdint>
#include <string>
#include <type_traits>

#include "config/option_schema.h"
#include "inputs/tail/tailer.h"

namespace logship::tail {

struct FollowOptions {
  std::string read_from = "head";
  config::Millis rescan_interval{60000};
  config::Millis rotate_wait{5000};
  config::Millis close_idle{10000};
  config::ByteSize read_size{256 << 10};
  config::ByteSize round_bytes{1 << 20};
  int64_t max_open_files = 0;
  bool exit_at_eof = false;
  bool read_compressed = true;
  config::ByteSize max_decompressed_size{4ull << 30};

  TailerOptions tailer(std::string kind, std::size_t read_padding) const {
    TailerOptions t;
    t.kind = std::move(kind);
    t.read_from_tail = read_from == "tail";
    t.read_size = read_size.bytes;
    t.round_bytes = round_bytes.bytes;
    t.max_open_files = static_cast<std::size_t>(max_open_files);
    t.rotate_wait = rotate_wait;
    t.close_idle = close_idle;
    t.read_padding = read_padding;
    t.read_compressed = read_compressed;
    t.max_decompressed_size = max_decompressed_size.bytes;
    return t;
  }

  // Adds the options to the schema of O, an options struct derived from FollowOptions.
  template <class O>
  static void add_to(config::OptionSchema<O>& s) {
    using F = FollowOptions;
    auto m = [](auto F::*p) {
      return static_cast<std::remove_reference_t<decltype(F{}.*p)> O::*>(p);
    };
    s.add("read_from", m(&F::read_from),
          "Where to start in files found at startup without a checkpoint (files that appear "
          "later are always read from the start).",
          config::one_of({"head", "tail"}))
        .add("rescan_interval", m(&F::rescan_interval),
             "Full rescan period: the safety net of inotify, which says what to read and when "
             "to scan (a file created, moved or deleted; events lost). Without inotify (or out "
             "of watches: fs.inotify.max_user_watches) files are polled every 250ms and "
             "rescanned at least every second.",
             config::at_least(config::Millis(10), "10ms"))
        .add("rotate_wait", m(&F::rotate_wait),
             "A rotated or deleted file is released after this long at its end without growth.",
             config::at_least(config::Millis(0), "0"))
        .add("close_idle", m(&F::close_idle),
             "A file read to its end is closed after this long without new data, so 10,000 "
             "quiet containers do not hold 10,000 descriptors; its directory's inotify events "
             "reopen it (checked to be the same device, inode and first bytes) and it is "
             "resumed at its offset, also after a rotation while closed. 0 = keep files open.",
             config::at_least(config::Millis(0), "0"))
        .add("read_size", m(&F::read_size), "Bytes per read() call.",
             config::at_least(config::ByteSize(4096), "4KiB"))
        .add("round_bytes", m(&F::round_bytes),
             "Bytes read from one file before the next file gets its turn.",
             config::at_least(config::ByteSize(4096), "4KiB"))
        .add("max_open_files", m(&F::max_open_files),
             "Log files held open at once; beyond it idle files are closed and reopened when "
             "they grow (read in turn). 0 = half the process's open-file limit "
             "(RLIMIT_NOFILE), so outputs, checkpoints and connections keep theirs.",
             config::in_range(0, 1 << 24))
        .add("read_compressed", m(&F::read_compressed),
             "Read a gzip-compressed generation (<name>.1.gz, Docker's compress=true) from the "
             "checkpoint of the file it was compressed from, when logship had not finished that "
             "file (stopped, lagging, or a copytruncate copy compressed at once). Other .gz "
             "files are never read. false: they are skipped and what they held past the "
             "checkpoint is lost.")
        .add("max_decompressed_size", m(&F::max_decompressed_size),
             "Uncompressed bytes read from one compressed generation at most (a gzip bomb "
             "stops here; counted in logship_input_compressed_failed_total).",
             config::at_least(config::ByteSize(1 << 20), "1MiB"))
        .add("exit_at_eof", m(&F::exit_at_eof),
             "Report the input finished once every file is read to its end (benchmarks; with "
             "service.exit_when_done the daemon then exits).");
  }
};

}  // namespace logship::tail
