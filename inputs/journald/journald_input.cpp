// Reads the systemd journal (or journal files / a directory of them) through sd-journal. One
// journal is one checkpointed stream: its position is the cursor of the last delivered entry
// (Position.offset kAfterCursor) or of the first part of a held-back Docker line (kAtCursor), so
// a restart, even after kill -9, continues right after what was delivered.
//
//   inputs:
//     docker_journal:
//       type: journald
//       container_names: [web, db]     # or units / identifiers / priority / matches
//       read_from: head
//
// A file output path like /var/log/logship/{container_name}/%Y-%m-%d.log works as for the docker
// input: the path template falls back to the event's container_name field.
#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/component_metrics.h"
#include "inputs/journald/entry_mapper.h"
#include "inputs/journald/journal_reader.h"
#include "inputs/journald/journald_options.h"

namespace logship::plugins {
namespace {

using journald::JournaldOptions;
using journald::JournalReader;

constexpr auto kWaitSlice = std::chrono::milliseconds(200);
constexpr auto kRetryDelay = std::chrono::seconds(1);

class JournaldInput final : public Input {
 public:
  explicit JournaldInput(const JournaldOptions& o)
      : o_(o),
        mapper_(journald::MapperOptions{o.include_fields, o.all_fields, o.trusted_fields,
                                        o.partial_timeout,
                                        static_cast<std::size_t>(o.partial_max_size.bytes)}) {}
  ~JournaldInput() override { stop(); }

  Status start(InputContext& ctx) override {
    ctx_ = &ctx;
    auto program = journald::build_match_program(o_);
    if (!program.is_ok()) return program.status();
    program_ = std::move(program).value();
    auto src = std::make_shared<SourceInfo>();
    src->input = ctx.name();
    src->key = o_.stream_key.empty() ? "journald:" + ctx.name() : o_.stream_key;
    saved_ = ctx.saved_position(src->key);
    const PluginContext plugin{PluginKind::kInput, ctx.name(), "journald"};
    log_ = ComponentLog(plugin);
    const ComponentMetrics metrics(plugin);
    cursor_lost_ = &metrics.counter("logship_journald_cursor_lost_total",
        "Saved cursors no longer in the journal (read again from the oldest "
                              "entry)");
    bad_files_ = &metrics.counter("logship_journald_skipped_files_total",
        "Journal files that could not be opened (corrupt, truncated, missing)");
    read_errors_ = &metrics.counter("logship_journald_read_errors_total",
        "Errors moving to the next journal entry");
    partials_merged_ = &metrics.counter("logship_journald_partial_lines_merged_total",
        "Docker lines joined from CONTAINER_PARTIAL_MESSAGE parts");
    partials_timed_out_ = &metrics.counter("logship_journald_partial_lines_timed_out_total",
        "Docker split lines emitted unfinished after the timeout");
    stream_ = ctx.open_stream(std::move(src), /*checkpointed=*/true);
    thread_ = std::thread([this] { run(); });
    return Status::ok();
  }

  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Opens and positions the journal at `from`; retries until it works or the daemon stops.
  bool open_reader(const std::optional<Position>& from) {
    journald::JournalSource source{o_.directory, o_.files};
    log::RateLimit limit(1, std::chrono::seconds(60));
    while (!ctx_->stopping()) {
      std::vector<std::pair<std::string, std::string>> skipped;
      Status s = reader_.open(source, &skipped);
      for (const auto& [path, why] : skipped) {
        if (!reported_.insert(path).second) continue;   // reopening: already told
        bad_files_->fetch_add(1);
        log_.warn("skipping journal file that cannot be opened",
                  log::kv("file", path) + log::kv("error", why));
      }
      journald::StartResult started;
      if (s.is_ok()) {
        s = reader_.start(program_, from ? &*from : nullptr, o_.read_from == journald::ReadFrom::kTail, &started);
      }
      if (s.is_ok()) {
        if (started.cursor_lost) {
          cursor_lost_->fetch_add(1);
          log_.warn("saved cursor is no longer in the journal (rotated or vacuumed); "
                    "continuing from the oldest entry",
                    log::kv("cursor", from->text));
        }
        mapper_.reset();
        return true;
      }
      log_.error(limit, "cannot open the journal; retrying", log::kv("error", s.message()));
      reader_.close();
      std::this_thread::sleep_for(kRetryDelay);
    }
    return false;
  }

  // Where a restart must begin after the entries read so far.
  Position current_position() const {
    if (const std::string* held = mapper_.oldest_held_cursor()) {
      return Position{journald::kAtCursor, *held};
    }
    std::string c = reader_.cursor();
    if (c.empty()) return last_emitted_;
    return Position{journald::kAfterCursor, std::move(c)};
  }

  void run() {
    if (saved_) last_emitted_ = *saved_;
    if (!open_reader(saved_)) {
      stream_->flush(true);
      return;
    }
    if (!saved_) {
      // Starting at the tail: remember it now, so entries written while the daemon is down
      // before its first read are still read after a restart.
      Position p = current_position();
      if (!p.text.empty()) {
        last_emitted_ = p;
        if (!stream_->emit(stream_->new_batch(1), std::move(p))) return;
      }
    }
    log::RateLimit error_limit;
    const std::size_t max_events = static_cast<std::size_t>(o_.batch_events);
    while (!ctx_->stopping()) {
      BatchPtr batch = stream_->new_batch(max_events);
      std::size_t read = 0;
      int r = 1;
      const TimePoint now = SteadyClock::now();
      while (batch->size() < max_events && batch->byte_size() < o_.batch_bytes.bytes) {
        r = reader_.next();
        if (r <= 0) break;
        mapper_.map(reader_, *batch, now);
        ++read;
      }
      const bool at_end = r <= 0;
      if (r == 0 && !o_.follow) mapper_.flush_expired(*batch, now, /*force=*/true);
      const std::size_t expired = mapper_.flush_expired(*batch, now, false);
      partials_merged_->store(mapper_.merged_lines(), std::memory_order_relaxed);
      partials_timed_out_->store(mapper_.timed_out_lines(), std::memory_order_relaxed);
      held_mem_.set(mapper_.held_lines() > 0 ? mapper_.held_bytes() : 0);
      if (batch->size() > 0 || read > 0 || expired > 0) {
        Position pos = current_position();
        if (batch->size() > 0 || !(pos == last_emitted_)) {
          last_emitted_ = pos;
          if (!stream_->emit(std::move(batch), std::move(pos))) break;
        }
      }
      if (r < 0) {
        read_errors_->fetch_add(1);
        log_.error(error_limit, "journal read failed; reopening after the last emitted entry",
                   log::kv("error", std::strerror(-r)));
        reader_.close();
        std::this_thread::sleep_for(kRetryDelay);
        if (!open_reader(last_emitted_)) break;
        continue;
      }
      // Processors of the route (multiline, ...) may hold events until a time passes.
      if (auto due = stream_->next_flush(); due && *due <= SteadyClock::now()) {
        if (!stream_->flush(false)) break;
      }
      if (!at_end) continue;
      if (!o_.follow) {
        stream_->flush(true);
        ctx_->finished();
        return;
      }
      auto slice = std::chrono::duration_cast<std::chrono::microseconds>(kWaitSlice);
      if (auto deadline = mapper_.next_deadline()) {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(*deadline - now);
        slice = std::clamp(left, std::chrono::microseconds(1000), slice);
      }
      reader_.wait(static_cast<uint64_t>(slice.count()));
    }
    // Held parts stay un-emitted: the position already points at their first part.
    stream_->flush(true);
  }

  JournaldOptions o_;
  journald::EntryMapper mapper_;
  std::vector<std::string> program_;
  // The mapper's held partial lines, charged once per batch.
  MemoryCharge held_mem_{MemoryPart::kJournaldPending};
  InputContext* ctx_ = nullptr;
  ComponentLog log_{PluginContext{PluginKind::kInput, "", "journald"}};   // named at start
  std::unique_ptr<StreamHandle> stream_;
  std::optional<Position> saved_;
  Position last_emitted_;
  JournalReader reader_;
  std::set<std::string> reported_;
  std::thread thread_;
  std::atomic<uint64_t>* cursor_lost_ = nullptr;
  std::atomic<uint64_t>* bad_files_ = nullptr;
  std::atomic<uint64_t>* read_errors_ = nullptr;
  std::atomic<uint64_t>* partials_merged_ = nullptr;
  std::atomic<uint64_t>* partials_timed_out_ = nullptr;
};

}  // namespace

const PluginInfo& journald_input() {
  static const PluginInfo info{
      PluginKind::kInput, "journald",
      "Reads the systemd journal (or journal files) with cursor checkpoints and Docker fields.",
      &schema_of<JournaldOptions>, &bind_input<JournaldOptions, JournaldInput>};
  return info;
}

}  // namespace logship::plugins
