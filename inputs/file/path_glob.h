#pragma once
// Path globs for the `file` input: fnmatch per path component ('*', '?', '[...]' never cross a
// '/', and a leading '.' must be matched explicitly), plus "**" as a whole component for zero
// or more directories. Expansion walks only real directories (never a symlink to one) and
// returns only regular files (never a symlink): what `paths` names is what is read.
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/core/status.h"

namespace logship::file {

class PathGlob {
 public:
  // `pattern` must be absolute; invalid otherwise.
  static Result<PathGlob> parse(const std::string& pattern);

  // True when the absolute `path` matches.
  bool matches(std::string_view path) const;
  // True when a path below the directory `dir` could match (the expansion would look into
  // it): a new directory there asks for a complete scan.
  bool may_descend(std::string_view dir) const;

  // What expansion needs from the filesystem, so scans can cache and count listings.
  struct Walker {
    // Sorted entry names of a directory; false when it cannot be listed.
    std::function<bool(const std::string& dir, std::vector<std::string>* names)> list;
    // Called for every directory the expansion looks into (to watch it).
    std::function<void(const std::string& dir)> visit;
  };
  // Adds the regular files matching the pattern to *out. Depth of "**" is capped at
  // kMaxDepth directories.
  void expand(const Walker& w, std::set<std::string>* out) const;

  static constexpr int kMaxDepth = 16;

 private:
  void walk(const Walker& w, const std::string& dir, std::size_t i, int depth,
            std::set<std::string>* out) const;
  static bool prefix_from(const std::vector<std::string>& pat, std::size_t pi,
                          const std::vector<std::string_view>& parts, std::size_t si);
  static bool match_from(const std::vector<std::string>& pat, std::size_t pi,
                         const std::vector<std::string_view>& parts, std::size_t si);

  std::vector<std::string> parts_;   // components; "" never appears
};

// "a/b/../c" style components are not resolved: patterns are taken as written.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace logship::file
