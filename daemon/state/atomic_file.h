#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "daemon/core/status.h"

namespace logship {

// Replaces `path` with `content` so that a crash at any point leaves either the old or the new
// file: write `path.tmp`, fsync it, rename over `path`, fsync the directory.
Status write_file_atomically(const std::string& path, std::string_view content);
// The same, running `before_replace` once the new content is durable in `path.tmp` and before
// it replaces `path` (to keep a copy of the old file); its error stops the replace.
Status write_file_atomically(const std::string& path, std::string_view content,
                             const std::function<Status()>& before_replace);
// Creates the directory and its parents (mode 0750 for new ones).
Status make_dirs(const std::string& path);
Status fsync_dir(const std::string& dir);
bool read_whole_file(const std::string& path, std::string* out);

}  // namespace logship
