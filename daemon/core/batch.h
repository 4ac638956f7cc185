#pragma once
// Batch: the unit that moves through the pipeline. Events of one stream, their strings in one
// arena, and the acknowledgement references that settle when every output delivered it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/ack.h"
#include "daemon/core/batch_arena.h"
#include "daemon/core/event.h"

namespace logship {

// Per-source values every event of the stream shares (container id, name, image, labels...).
// Emitted by outputs beside the event's own fields; never copied per event.
struct Tag {
  std::string key;
  ValueType type = ValueType::kString;   // kString or kRawJson
  std::string value;
};

// Conventional tag keys, shared by every input that knows containers (docker, CRI, journald,
// the plugin), so processors and outputs treat all sources alike: container_id, container_name,
// image, hostname, compose_project, compose_service; CRI adds namespace, pod, pod_uid.
struct SourceInfo {
  std::string input;          // name of the input in the config
  std::string key;            // stream identity, the checkpoint key
  std::vector<Tag> tags;
  // Container labels; outputs emit them as a "labels" object. Processors read them to choose
  // per-container behaviour (e.g. logship.parser=json).
  std::vector<std::pair<std::string, std::string>> labels;
  // The log file the stream is read from, when it is one (the ecs schema's log.file.path).
  // Not a tag: the logship layout does not write it.
  std::string file_path;
  const Tag* find(std::string_view k) const {
    for (const Tag& t : tags) {
      if (t.key == k) return &t;
    }
    return nullptr;
  }
  const std::string* label(std::string_view k) const {
    for (const auto& [key, value] : labels) {
      if (key == k) return &value;
    }
    return nullptr;
  }
};

class Batch {
 public:
  explicit Batch(std::shared_ptr<const SourceInfo> source, std::size_t expected_events = 64,
                 std::size_t expected_bytes = 16 * 1024);
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  Event& add_event() { return events_.emplace_back(&arena_); }
  // Appends a copy of an event of another batch, its strings copied into this batch's arena.
  Event& add_copy(const Event& e);
  std::pmr::vector<Event>& events() { return events_; }
  const std::pmr::vector<Event>& events() const { return events_; }
  std::size_t size() const { return events_.size(); }

  // Copies into the arena. The returned view lives as long as the batch.
  std::string_view copy(std::string_view s);
  char* allocate(std::size_t n) { return static_cast<char*>(arena_.allocate(n, 1)); }
  std::pmr::memory_resource* arena() { return &arena_; }

  // Memory held by this batch (arena blocks plus the batch itself).
  std::size_t byte_size() const { return arena_.bytes() + sizeof(Batch); }

  const SourceInfo& source() const { return *source_; }
  const std::shared_ptr<const SourceInfo>& source_ptr() const { return source_; }
  AckSet& acks() { return acks_; }
  const AckSet& acks() const { return acks_; }
  int64_t created_ns() const { return created_ns_; }

 private:
  std::shared_ptr<const SourceInfo> source_;
  BatchArena arena_;
  std::pmr::vector<Event> events_;
  AckSet acks_;
  int64_t created_ns_;
};

using BatchPtr = std::unique_ptr<Batch>;
using SharedBatch = std::shared_ptr<const Batch>;

}  // namespace logship
