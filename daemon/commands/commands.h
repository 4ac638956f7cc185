#pragma once
#include <string>
#include <vector>

namespace logship::commands {

// Each returns the process exit code.
int run(const std::vector<std::string>& args);
// Validates FILE, then sends SIGHUP to the daemon whose pid is in <state_dir>/logship.pid.
int reload(const std::vector<std::string>& args);
int validate(const std::vector<std::string>& args);
int plugins(const std::vector<std::string>& args);
// `dead-letters list FILE...` / `dead-letters replay FILE --output NAME [-c FILE]`.
int dead_letters(const std::vector<std::string>& args);
int fsck(const std::vector<std::string>& args);
int top(const std::vector<std::string>& args);
// `tap --at POINT [--where COND] [--rate N] [--format json|line]`: live events of the daemon.
int tap(const std::vector<std::string>& args);
int config_test(const std::vector<std::string>& args);
// The overview of commands; to stderr (returning 2, a usage error) or stdout (returning 0).
int print_usage(bool to_stderr);
// `logship <command> --help`: false for an unknown command.
bool print_command_help(const std::string& command);

}  // namespace logship::commands
