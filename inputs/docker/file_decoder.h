#pragma once
// Turns the bytes of one container log file into events: cuts lines, decodes them (Docker
// json-file or CRI), merges partial chunks per stream, handles malformed and oversized lines,
// and knows the offset a restart must resume from. No I/O: the tailer feeds it, tests too.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/core/batch.h"
#include "daemon/core/clock.h"
#include "daemon/runtime/container_series.h"
#include "daemon/runtime/component_log.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/memory_budget.h"
#include "inputs/docker/line_decoder.h"
#include "inputs/tail/decoder.h"

namespace logship::docker {

enum class LogFormat { kDocker, kCri };

struct DecoderOptions {
  LogFormat format = LogFormat::kDocker;
  std::size_t max_line_size = 1 << 20;       // merged message cap; the rest is dropped
  bool skip_malformed = false;               // on_malformed: skip (else raw)
  std::chrono::milliseconds partial_timeout{5000};
};

// Where malformed lines are reported: counted in the input's metric and logged in its name,
// rate-limited. Each part is optional (tests, fuzzing).
struct MalformedReport {
  std::atomic<uint64_t>* counter = nullptr;
  const ComponentLog* log = nullptr;
  log::RateLimit* limit = nullptr;
};

// Counters of one input (all its files); plain integers, the input thread owns them.
struct DecoderStats {
  uint64_t lines = 0;           // lines decoded (chunks included)
  uint64_t events = 0;          // events produced
  uint64_t malformed = 0;
  uint64_t truncated = 0;       // events cut by max_line_size
  uint64_t dropped_bytes = 0;   // bytes cut off by max_line_size
  std::array<uint64_t, 8> by_error{};
};

class FileDecoder final : public tail::Decoder {
 public:
  // `json` is shared by the files of one thread (its parser buffers are the big part).
  FileDecoder(const DecoderOptions& o, DockerLineDecoder* json, DecoderStats* stats,
              MalformedReport report = {})
      : o_(o), json_(json), stats_(stats), report_(report) {}

  // Longest line kept waiting for its '\n'. Beyond it the line is malformed (no writer we know
  // produces one) and skipped up to its newline.
  std::size_t max_raw_line() const { return o_.max_line_size + (128 << 10); }

  // Consumes the complete lines of data[0, len), whose first byte is at file offset `base`;
  // `capacity` >= len + SIMDJSON_PADDING bytes are readable from data. Returns the bytes eaten:
  // the caller keeps the rest (an incomplete line) and passes it again with more data.
  std::size_t consume(const char* data, std::size_t len, std::size_t capacity, uint64_t base,
                      Batch& batch, TimePoint now) override;
  // Where a restart must read from: the start of the oldest merge still pending, else the end
  // of the last line consumed.
  uint64_t safe_offset() const override;
  bool has_pending() const override { return pending_[0].active || pending_[1].active || pending_[2].active; }
  std::optional<TimePoint> next_flush() const override;
  // Emits pending merges idle for partial_timeout, or all when `force`.
  void flush(Batch& batch, TimePoint now, bool force) override;
  // Forget all state; the next byte consumed is at `offset` (start, truncation).
  void reset(uint64_t offset) override;
  // The container series this file's events are counted in (none: not counted per container).
  void count_into(ContainerSeries::Handle series) { series_ = std::move(series); }

 private:
  struct Pending {
    bool active = false;
    bool truncated = false;
    uint64_t start = 0;
    int64_t time_ns = 0;
    TimePoint last{};
    std::string buf;
  };
  void line(std::string_view text, std::size_t capacity, uint64_t offset, Batch& batch,
            TimePoint now);
  void malformed(std::string_view text, uint64_t offset, LineError err, Batch& batch,
                 bool truncated);
  void append(Pending& p, std::string_view chunk);
  void charge_pending();
  void emit_pending(Pending& p, Stream s, Batch& batch);
  Event& new_event(Batch& batch, std::string_view message, Stream s, int64_t time_ns,
                   uint64_t offset, uint8_t flags);

  const DecoderOptions& o_;
  DockerLineDecoder* json_;
  CriLineDecoder cri_;
  DecoderStats* stats_;
  const MalformedReport report_;
  DecodedLine decoded_;
  std::array<Pending, 3> pending_;   // by Stream value
  uint64_t consumed_end_ = 0;
  bool skipping_ = false;            // inside an oversized line, dropping up to its '\n'
  MemoryCharge pending_mem_{MemoryPart::kPartialLines};
  ContainerSeries::Handle series_;
};

}  // namespace logship::docker
