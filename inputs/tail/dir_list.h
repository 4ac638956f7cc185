#pragma once
// Directory listing for discovery.
#include <string>
#include <vector>

namespace logship::tail {

// The entries of `dir`, sorted ("." and ".." left out). `dirs_only` keeps directories (and
// entries whose type the filesystem does not report). False (errno kept) when it cannot be
// listed: with EMFILE or ENFILE that says nothing about what is in it, so callers keep what
// they knew.
bool list_dir(const std::string& dir, bool dirs_only, std::vector<std::string>* out);

}  // namespace logship::tail
