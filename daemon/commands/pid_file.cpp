#include "daemon/commands/pid_file.h"

#include <cstdlib>

#include "daemon/state/atomic_file.h"

namespace logship::commands {

std::string pid_file_path(const std::string& state_dir) { return state_dir + "/logship.pid"; }

std::optional<long> read_pid_file(const std::string& path) {
  std::string text;
  if (!read_whole_file(path, &text)) return std::nullopt;
  return std::strtol(text.c_str(), nullptr, 10);
}

bool is_running_logship(long pid) {
  std::string comm;
  return pid > 1 && read_whole_file("/proc/" + std::to_string(pid) + "/comm", &comm) &&
         comm.rfind("logship", 0) == 0;
}

}  // namespace logship::commands
