#pragma once
// Committed positions of every stream, persisted in <state_dir>/checkpoints.json:
//   {"version":1,"streams":{"<key>":{"offset":123,"text":"..."}}}
// Written atomically, only when changed; before each replace the current file is kept as
// checkpoints.json.prev (a hard link, no copy). A corrupt file is renamed aside
// (checkpoints.json.corrupt-<unix time>), reported, and the previous copy loaded instead: it
// re-reads a little, never skips. Only when no good copy is left do the inputs start without
// checkpoints. A leftover .tmp is ignored.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/core/ack.h"
#include "daemon/core/status.h"

namespace logship {

class CheckpointStore final : public CommitSink {
 public:
  // Loads the file if present. An unreadable directory or file is an error; a corrupt file is
  // not (the previous copy is used).
  Status open(const std::string& state_dir);
  std::optional<Position> get(const std::string& key) const;
  std::vector<std::pair<std::string, Position>> with_prefix(std::string_view prefix) const;
  void commit(const std::string& key, const Position& pos) override;
  void forget(const std::string& key);
  // Writes the file if anything changed since the last write.
  Status flush();
  // The current file was corrupt at open (whether or not the previous copy could replace it).
  bool loaded_corrupt() const { return loaded_corrupt_; }
  // The positions came from the previous copy.
  bool loaded_previous() const { return loaded_previous_; }
  std::string path() const { return path_; }

  // Exposed for tests: serialization round trip.
  static std::string serialize(const std::map<std::string, Position>& m);
  static bool parse(const std::string& text, std::map<std::string, Position>* out);

  // Loaded positions, or why the file at `path` is not usable (empty: missing).
  enum class Load { kOk, kMissing, kCorrupt };
  Load load(const std::string& path, std::map<std::string, Position>* out, Status* failed) const;
  void set_aside(const std::string& path, const std::string& why) const;
  Status keep_previous_copy() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Position> positions_;
  bool dirty_ = false;
  bool loaded_corrupt_ = false;
  bool loaded_previous_ = false;
  std::string path_;
  std::mutex write_mu_;   // one writer at a time; never held with mu_ across I/O
};

}  // namespace logship
