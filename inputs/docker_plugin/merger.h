#pragma once
// Joins Docker's partial log entries back into whole lines (formats.md §3.4).
//
// The engine cuts lines at 16 KiB. Each chunk has partial=true; chunks of one line share
// partial_log_metadata.id and carry the first chunk's time; the final chunk also has
// partial=true, with last=true. So an entry completes a line iff partial == false or last ==
// true. Engines before partial metadata sent partial=true chunks completed by a non-partial
// entry; both forms are handled.
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/core/event.h"
#include "inputs/docker_plugin/frame.h"

namespace logship::docker_plugin {

struct MergedLine {
  int64_t time_ns = 0;
  Stream stream = Stream::kStdout;
  bool truncated = false;   // cut at max_line, or its stream ended before the last chunk
  // The line's last chunk arrived, i.e. the container wrote its newline. False when the stream
  // ended mid-line (a final line without newline) or another line cut it short: `docker logs`
  // must then print it without a newline, as the json-file driver does.
  bool terminated = true;
  std::string_view text;    // valid during the callback
};

class PartialMerger {
 public:
  explicit PartialMerger(std::size_t max_line) : max_line_(max_line) {}

  // Feeds one entry; calls emit(const MergedLine&) for each line it completes (zero to two:
  // a line cut short by the start of another comes out first).
  template <class Emit>
  void add(const LogEntryView& e, Emit&& emit) {
    const Stream s = e.source == "stderr" ? Stream::kStderr : Stream::kStdout;
    const bool completes = !e.partial || (e.has_partial_meta && e.last);
    if (open_) {
      const bool same = has_id_ ? (e.has_partial_meta && e.partial_id == id_)
                                : !e.has_partial_meta;
      if (same) {
        append(e.line);
        if (completes) close(emit, true);
        return;
      }
      // Another line began before this one's last chunk: the engine lost the rest.
      truncated_ = true;
      close(emit, false);
    }
    if (completes) {
      MergedLine l{e.time_nano, s, e.line.size() > max_line_, true, e.line.substr(0, max_line_)};
      emit(l);
      return;
    }
    open_ = true;
    has_id_ = e.has_partial_meta;
    id_.assign(e.partial_id);
    time_ = e.time_nano;
    stream_ = s;
    truncated_ = false;
    buf_.clear();
    append(e.line);
  }

  // The stream ended: a line still open comes out as it is, marked truncated.
  template <class Emit>
  void finish(Emit&& emit) {
    if (!open_) return;
    truncated_ = true;
    close(emit, false);
  }

  bool open() const { return open_; }
  // Heap the merger holds (charged to the memory budget).
  std::size_t capacity() const { return buf_.capacity(); }

 private:
  void append(std::string_view s) {
    const std::size_t room = max_line_ > buf_.size() ? max_line_ - buf_.size() : 0;
    if (s.size() > room) {
      truncated_ = true;
      s = s.substr(0, room);
    }
    buf_.append(s);
  }
  template <class Emit>
  void close(Emit&& emit, bool terminated) {
    MergedLine l{time_, stream_, truncated_, terminated, buf_};
    emit(l);
    open_ = false;
    buf_.clear();
    // Do not keep a MiB buffer per idle container.
    if (buf_.capacity() > (1u << 20)) buf_.shrink_to_fit();
  }

  const std::size_t max_line_;
  bool open_ = false;
  bool has_id_ = false;
  std::string id_;
  std::string buf_;
  int64_t time_ = 0;
  Stream stream_ = Stream::kStdout;
  bool truncated_ = false;
};

}  // namespace logship::docker_plugin
