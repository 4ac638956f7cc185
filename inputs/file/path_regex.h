#pragma once
// `path_regex` of the file input: an RE2 pattern the whole path of a file must match for the
// file to be read, whose named groups become fields of its events
// ("/var/log/(?P<service>[^/]+)/(?P<file>.*)\.log" gives service and file).
// Rotated and compressed generations take the fields of their active file's path.
#include <re2/re2.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "daemon/core/status.h"

namespace logship::file {

class PathRegex {
 public:
  // Invalid when the pattern does not compile or has no named group.
  static Result<PathRegex> compile(const std::string& pattern);
  bool empty() const { return re_ == nullptr; }
  // Whether the whole path matches; the named groups' values (in pattern order) into `fields`.
  bool match(const std::string& path, std::vector<std::pair<std::string, std::string>>* fields) const;
  bool matches(const std::string& path) const;

 private:
  std::shared_ptr<const RE2> re_;
  std::vector<std::pair<int, std::string>> groups_;   // (index, name), by index
};

}  // namespace logship::file
