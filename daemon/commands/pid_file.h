#pragma once
// <state_dir>/logship.pid: written by `run`, read by the commands that must find (reload) or
// must not disturb (fsck) the daemon of a state_dir.
#include <optional>
#include <string>

namespace logship::commands {

std::string pid_file_path(const std::string& state_dir);
// The pid the file names, or nullopt when it cannot be read.
std::optional<long> read_pid_file(const std::string& path);
// True when `pid` is a live process named logship (a stale file may name a reused pid).
bool is_running_logship(long pid);

}  // namespace logship::commands
