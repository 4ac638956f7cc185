#pragma once
// What the last reload of this process came to, for whoever asked for it: `logship reload`
// (through <state_dir>/reload.json) and POST /api/reload wait for the next outcome instead of
// telling the operator to read the log.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logship {

struct ReloadOutcome {
  uint64_t generation = 0;   // 1 for the first reload of the process
  // reloaded: the new config runs. rejected: it is invalid; the running one stays.
  // rolled_back: it was valid but did not start; the previous one runs again.
  // failed: neither starts; the daemon exits.
  std::string result;
  std::vector<std::string> errors;
  bool ok() const { return result == "reloaded"; }
  // {"pid":P,"generation":N,"result":"...","errors":[...]}
  std::string to_json(long pid) const;
  static bool from_json(std::string_view text, long* pid, ReloadOutcome* out);
};

class ReloadOutcomes {
 public:
  static ReloadOutcomes& global();
  uint64_t generation() const;
  // Records the outcome of the reload that just ended (the next generation).
  ReloadOutcome publish(std::string result, std::vector<std::string> errors);
  // The newest outcome if a reload ended after generation `after`.
  std::optional<ReloadOutcome> since(uint64_t after) const;

 private:
  mutable std::mutex mu_;
  ReloadOutcome last_;
};

}  // namespace logship
