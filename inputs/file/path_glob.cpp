#include "inputs/file/path_glob.h"

#include <fnmatch.h>
#include <sys/stat.h>

namespace logship::file {

namespace {

bool has_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

bool fn(const std::string& pattern, std::string_view name) {
  return ::fnmatch(pattern.c_str(), std::string(name).c_str(), FNM_PERIOD) == 0;
}

// lstat, so a symlink is judged as itself.
bool lstat_is(const std::string& path, mode_t type) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == type;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

}  // namespace

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Result<PathGlob> PathGlob::parse(const std::string& pattern) {
  if (pattern.empty() || pattern[0] != '/') {
    return Status::invalid("path glob '" + pattern + "' must be absolute");
  }
  PathGlob out;
  for (std::string_view p : split_path(pattern)) {
    if (p == "." || p == "..") {
      return Status::invalid("path glob '" + pattern +
                             "' must not contain '.' or '..' components");
    }
    // "**" twice in a row means the same as once.
    if (p == "**" && !out.parts_.empty() && out.parts_.back() == "**") continue;
    out.parts_.emplace_back(p);
  }
  if (out.parts_.empty() || out.parts_.back() == "**") {
    return Status::invalid("path glob '" + pattern + "' must end in a file name pattern");
  }
  return out;
}

bool PathGlob::match_from(const std::vector<std::string>& pat, std::size_t pi,
                          const std::vector<std::string_view>& parts, std::size_t si) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      for (std::size_t k = si; k <= parts.size(); ++k) {
        if (match_from(pat, pi + 1, parts, k)) return true;
      }
      return false;
    }
    if (si >= parts.size() || !fn(pat[pi], parts[si])) return false;
    ++pi;
    ++si;
  }
  return si == parts.size();
}

bool PathGlob::prefix_from(const std::vector<std::string>& pat, std::size_t pi,
                           const std::vector<std::string_view>& parts, std::size_t si) {
  if (si == parts.size()) return pi < pat.size();   // a component is left for what is below
  if (pi == pat.size()) return false;
  if (pat[pi] == "**") return prefix_from(pat, pi + 1, parts, si) || prefix_from(pat, pi, parts, si + 1);
  return fn(pat[pi], parts[si]) && prefix_from(pat, pi + 1, parts, si + 1);
}

bool PathGlob::may_descend(std::string_view dir) const {
  return prefix_from(parts_, 0, split_path(dir), 0);
}

bool PathGlob::matches(std::string_view path) const {
  return match_from(parts_, 0, split_path(path), 0);
}

void PathGlob::expand(const Walker& w, std::set<std::string>* out) const {
  walk(w, "/", 0, 0, out);
}

void PathGlob::walk(const Walker& w, const std::string& dir, std::size_t i, int depth,
                    std::set<std::string>* out) const {
  const std::string& part = parts_[i];
  const bool last = i + 1 == parts_.size();
  if (part == "**") {
    walk(w, dir, i + 1, depth, out);   // zero directories
    if (depth >= kMaxDepth) return;
    std::vector<std::string> names;
    w.visit(dir);
    if (!w.list(dir, &names)) return;
    for (const std::string& n : names) {
      if (n[0] == '.') continue;   // as '*' does: hidden directories are named explicitly
      const std::string sub = join(dir, n);
      if (lstat_is(sub, S_IFDIR)) walk(w, sub, i, depth + 1, out);
    }
    return;
  }
  if (!has_glob(part)) {
    const std::string p = join(dir, part);
    if (last) {
      if (lstat_is(p, S_IFREG)) out->insert(p);
    } else if (lstat_is(p, S_IFDIR)) {
      walk(w, p, i + 1, depth, out);
    }
    return;
  }
  std::vector<std::string> names;
  w.visit(dir);
  if (!w.list(dir, &names)) return;
  for (const std::string& n : names) {
    if (!fn(part, n)) continue;
    const std::string p = join(dir, n);
    if (last) {
      if (lstat_is(p, S_IFREG)) out->insert(p);
    } else if (lstat_is(p, S_IFDIR)) {
      walk(w, p, i + 1, depth, out);
    }
  }
}

}  // namespace logship::file
