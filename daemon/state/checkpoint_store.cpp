#include "daemon/state/checkpoint_store.h"

#include <simdjson.h>

#include "daemon/core/json_writer.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"

namespace logship {

Status CheckpointStore::open(const std::string& state_dir) {
  LOGSHIP_TRY(make_dirs(state_dir));
  path_ = state_dir + "/checkpoints.json";
  std::string text;
  if (!read_whole_file(path_, &text)) {
    return Status::ok();  // first start
  }
  std::map<std::string, Position> loaded;
  if (!parse(text, &loaded)) {
    loaded_corrupt_ = true;
    Metrics::global().counter("logship_checkpoint_corrupt_total", "",
                              "Checkpoint files found corrupt at start").fetch_add(1);
    log::error("checkpoint", "checkpoint file is corrupt; starting without checkpoints",
               log::kv("path", path_));
    return Status::ok();
  }
  std::lock_guard lock(mu_);
  positions_ = std::move(loaded);
  return Status::ok();
}

std::optional<Position> CheckpointStore::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = positions_.find(key);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

void CheckpointStore::commit(const std::string& key, const Position& pos) {
  std::lock_guard lock(mu_);
  auto& slot = positions_[key];
  if (!(slot == pos)) {
    slot = pos;
    dirty_ = true;
  }
}

void CheckpointStore::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  if (positions_.erase(key) > 0) dirty_ = true;
}

Status CheckpointStore::flush() {
  if (path_.empty()) return Status::ok();
  std::lock_guard write_lock(write_mu_);
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (!dirty_) return Status::ok();
    text = serialize(positions_);
    dirty_ = false;
  }
  Status s = write_file_atomically(path_, text);
  if (!s.is_ok()) {
    std::lock_guard lock(mu_);
    dirty_ = true;  // try again next time
  }
  return s;
}

std::string CheckpointStore::serialize(const std::map<std::string, Position>& m) {
  std::string out = "{\"version\":1,\"streams\":{";
  bool first = true;
  for (const auto& [key, pos] : m) {
    if (!first) out += ",";
    first = false;
    out += "\n";
    json::append_string(out, key);
    out += ":{\"offset\":" + std::to_string(pos.offset) + ",\"text\":";
    json::append_string(out, pos.text);
    out += "}";
  }
  out += "\n}}\n";
  return out;
}

bool CheckpointStore::parse(const std::string& text, std::map<std::string, Position>* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return false;
  int64_t version;
  if (doc["version"].get_int64().get(version) != simdjson::SUCCESS || version != 1) return false;
  simdjson::dom::object streams;
  if (doc["streams"].get_object().get(streams) != simdjson::SUCCESS) return false;
  for (auto field : streams) {
    Position p;
    uint64_t off;
    std::string_view t;
    if (field.value["offset"].get_uint64().get(off) != simdjson::SUCCESS) return false;
    if (field.value["text"].get_string().get(t) != simdjson::SUCCESS) return false;
    p.offset = off;
    p.text = std::string(t);
    (*out)[std::string(field.key)] = std::move(p);
  }
  return true;
}

}  // namespace logship
