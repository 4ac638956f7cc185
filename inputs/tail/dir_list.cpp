#include "inputs/tail/dir_list.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace logship::tail {

bool list_dir(const std::string& dir, bool dirs_only, std::vector<std::string>* out) {
  out->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  while (true) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    if (dirs_only && e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    out->emplace_back(n);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    return false;
  }
  std::sort(out->begin(), out->end());
  return true;
}

}  // namespace logship::tail
