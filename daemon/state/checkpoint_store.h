#pragma once
// Committed positions of every stream, persisted in <state_dir>/checkpoints.json:
//   {"version":1,"streams":{"<key>":{"offset":123,"text":"..."}}}
// Written atomically, only when changed. A corrupt file is reported and treated as empty, so
// each input's read_from policy applies; a leftover .tmp is ignored.
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "daemon/core/ack.h"
#include "daemon/core/status.h"

namespace logship {

class CheckpointStore final : public CommitSink {
 public:
  // Loads the file if present. An unreadable directory is an error; a corrupt file is not.
  Status open(const std::string& state_dir);
  std::optional<Position> get(const std::string& key) const;
  void commit(const std::string& key, const Position& pos) override;
  void forget(const std::string& key);
  // Writes the file if anything changed since the last write.
  Status flush();
  bool loaded_corrupt() const { return loaded_corrupt_; }
  std::string path() const { return path_; }

  // Exposed for tests: serialization round trip.
  static std::string serialize(const std::map<std::string, Position>& m);
  static bool parse(const std::string& text, std::map<std::string, Position>* out);

 private:
  mutable std::mutex mu_;
  std::map<std::string, Position> positions_;
  bool dirty_ = false;
  bool loaded_corrupt_ = false;
  std::string path_;
  std::mutex write_mu_;   // one writer at a time; never held with mu_ across I/O
};

}  // namespace logship
