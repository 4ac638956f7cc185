#include "inputs/file/path_regex.h"

#include <algorithm>

namespace logship::file {

Result<PathRegex> PathRegex::compile(const std::string& pattern) {
  RE2::Options o;
  o.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, o);
  if (!re->ok()) return Status::invalid("does not compile: " + re->error() + " in " + pattern);
  PathRegex r;
  for (const auto& [name, index] : re->NamedCapturingGroups()) r.groups_.emplace_back(index, name);
  if (r.groups_.empty()) {
    return Status::invalid("has no named group (?P<name>...) to make a field of: " + pattern +
                           "; to choose files without fields, use paths and exclude");
  }
  std::sort(r.groups_.begin(), r.groups_.end());
  r.re_ = std::move(re);
  return r;
}

bool PathRegex::matches(const std::string& path) const {
  return re_ == nullptr || RE2::FullMatch(path, *re_);
}

bool PathRegex::match(const std::string& path,
                      std::vector<std::pair<std::string, std::string>>* fields) const {
  fields->clear();
  if (re_ == nullptr) return true;
  const int n = re_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<std::size_t>(n));
  if (!re_->Match(path, 0, path.size(), RE2::ANCHOR_BOTH, sub.data(), n)) return false;
  for (const auto& [index, name] : groups_) {
    const auto& v = sub[static_cast<std::size_t>(index)];
    fields->emplace_back(name, std::string(v.data(), v.size()));
  }
  return true;
}

}  // namespace logship::file
