#pragma once
// Opening the file output's active files safely, with every failure classified once: permanent
// for the events that rendered the path (no wait makes it a regular file: the name is too long,
// a directory, a FIFO or a symbolic link is in the way) or retriable (EMFILE, ENOSPC, EIO,
// EACCES, ENOTDIR: the output directory itself broken...).
// The output's file is never opened through a symbolic link, never blocks on a FIFO and is
// always a regular file, so container-controlled lines cannot be appended to (or a torn line
// cut from) a file somebody else owns.
#include <cstdint>
#include <optional>
#include <string>

#include "daemon/core/plugin_api.h"

namespace logship::plugins {

struct OpenFailure {
  std::optional<PermanentError> permanent;   // set: dead-letter the events; unset: retry later
  std::string what;                          // "open <path>: <strerror>"
};

// The permanent class of an errno from creating or opening an output path, if it is one.
std::optional<PermanentError> permanent_path_error(int err);

// Creates the directories above `path` (0750). False with *why set when that fails.
bool make_parent_dirs(const std::string& path, OpenFailure* why);

// Opens (creating, 0640) `path` for reading and appending: O_NOFOLLOW, O_NONBLOCK so a FIFO
// never blocks, then fstat must show a regular file. Returns the fd and sets *size, or -1 with
// *why.
int open_output_file(const std::string& path, uint64_t* size, OpenFailure* why);

// After a crash the file may end in a partial line: cuts it (through `fd`, never by path) and
// makes the cut durable. Returns the bytes cut; an error is retriable.
Result<uint64_t> cut_torn_line(int fd, uint64_t size);

}  // namespace logship::plugins
