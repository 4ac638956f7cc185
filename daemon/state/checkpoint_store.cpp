#include "daemon/state/checkpoint_store.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <simdjson.h>

#include "daemon/core/json_writer.h"
#include "daemon/core/safe_file.h"
#include "daemon/runtime/log.h"
#include "daemon/runtime/metrics.h"
#include "daemon/state/atomic_file.h"

namespace logship {

namespace {

// Far beyond any real node (about 100 bytes per followed file), small enough that a file
// replaced by garbage cannot exhaust memory at start.
constexpr std::size_t kMaxCheckpointFile = 256u << 20;

std::string previous_path(const std::string& path) { return path + ".prev"; }

}  // namespace

Status CheckpointStore::open(const std::string& state_dir) {
  LOGSHIP_TRY(make_dirs(state_dir));
  path_ = state_dir + "/checkpoints.json";
  std::map<std::string, Position> loaded;
  Status failed;
  const Load current = load(path_, &loaded, &failed);
  LOGSHIP_TRY(failed);
  if (current == Load::kMissing) return Status::ok();   // first start
  if (current == Load::kCorrupt) {
    loaded_corrupt_ = true;
    Metrics::global().counter("logship_checkpoint_corrupt_total", "",
                              "Checkpoint files found corrupt at start").fetch_add(1);
    set_aside(path_, "corrupt");
    loaded.clear();
    const std::string prev = previous_path(path_);
    const Load fallback = load(prev, &loaded, &failed);
    LOGSHIP_TRY(failed);
    if (fallback != Load::kOk) {
      loaded.clear();
      log::error("checkpoint",
                 "checkpoint file is corrupt and no good previous copy exists; starting without "
                 "checkpoints",
                 log::kv("path", path_) + log::kv("previous", prev));
      return Status::ok();
    }
    loaded_previous_ = true;
    log::warn("checkpoint", "using the previous checkpoint copy; some lines are read again",
              log::kv("path", prev) + log::kv("streams", static_cast<int64_t>(loaded.size())));
  }
  std::lock_guard lock(mu_);
  positions_ = std::move(loaded);
  return Status::ok();
}

CheckpointStore::Load CheckpointStore::load(const std::string& path,
                                            std::map<std::string, Position>* out,
                                            Status* failed) const {
  std::string text;
  // Not followed: the state directory is ours, a link there was put by someone else.
  SafeRead r = read_file_safely(path, SafeReadLimits{kMaxCheckpointFile, false}, &text);
  using O = SafeRead::Outcome;
  if (r.outcome == O::kMissing) return Load::kMissing;
  if (r.outcome == O::kFailed) {
    // Unreadable is not corrupt: starting without the positions would re-read or skip data.
    *failed = Status::io("read " + path, r.err);
    return Load::kCorrupt;
  }
  if (r.outcome == O::kRejected) {
    log::error("checkpoint", "checkpoint file is not usable",
               log::kv("path", path) + log::kv("error", r.error));
    return Load::kCorrupt;
  }
  if (!parse(text, out)) {
    log::error("checkpoint", "checkpoint file is corrupt", log::kv("path", path));
    return Load::kCorrupt;
  }
  return Load::kOk;
}

// Kept for inspection instead of overwritten by the next flush.
void CheckpointStore::set_aside(const std::string& path, const std::string& why) const {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string aside =
      path + "." + why + "-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    log::error("checkpoint", "cannot set the corrupt checkpoint file aside",
               log::kv("path", path) + log::kv("error", std::strerror(errno)));
    return;
  }
  log::error("checkpoint", "corrupt checkpoint file set aside", log::kv("path", aside));
}

// The file about to be replaced becomes the previous copy: link it under a temporary name,
// then rename over the old copy, so a crash leaves either copy whole.
Status CheckpointStore::keep_previous_copy() const {
  const std::string prev = previous_path(path_);
  const std::string tmp = prev + ".tmp";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return Status::io("unlink " + tmp, errno);
  if (::link(path_.c_str(), tmp.c_str()) != 0) {
    if (errno == ENOENT) return Status::ok();   // nothing written yet
    return Status::io("link " + path_ + " to " + tmp, errno);
  }
  if (::rename(tmp.c_str(), prev.c_str()) != 0) return Status::io("rename " + tmp, errno);
  return Status::ok();
}

std::optional<Position> CheckpointStore::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = positions_.find(key);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, Position>> CheckpointStore::with_prefix(
    std::string_view prefix) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, Position>> out;
  for (auto it = positions_.lower_bound(std::string(prefix));
       it != positions_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
    out.emplace_back(*it);
  }
  return out;
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
  // The previous copy is replaced only once the new file is durable: on a full disk nothing
  // changes (freeing the old copy first would make room for the write).
  Status s = write_file_atomically(path_, text, [this] { return keep_previous_copy(); });
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
