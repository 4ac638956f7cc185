#include "outputs/common/label_policy.h"

#include <fnmatch.h>

#include <algorithm>

namespace logship::plugins::doc {
namespace {

bool any_glob(const std::vector<std::string>& patterns, const std::string& key) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return ::fnmatch(p.c_str(), key.c_str(), 0) == 0;
  });
}

}  // namespace

bool LabelPolicy::keeps(const std::string& key) const {
  if (!include_.empty() && !any_glob(include_, key)) return false;
  return !any_glob(exclude_, key);
}

Labels LabelPolicy::apply(const Labels& labels) const {
  Labels out;
  out.reserve(labels.size());
  uint64_t bytes = 0;
  for (const auto& [k, v] : labels) {
    if (!keeps(k)) continue;
    // Whole labels or none: a cut value would be a wrong value.
    if (max_bytes_ != 0 && bytes + k.size() + v.size() > max_bytes_) continue;
    bytes += k.size() + v.size();
    auto& kept = out.emplace_back(k, v);
    if (dedot_) std::replace(kept.first.begin(), kept.first.end(), '.', '_');
  }
  // Dedotting can make two keys equal (a.b and a_b): the first stays, a JSON object has no
  // duplicate keys.
  if (dedot_) {
    for (std::size_t i = 1; i < out.size();) {
      bool dup = std::any_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i),
                             [&](const auto& p) { return p.first == out[i].first; });
      if (dup) {
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  return out;
}

}  // namespace logship::plugins::doc
