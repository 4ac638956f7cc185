#pragma once
#include <string>
#include <vector>

namespace logship::commands {

// Each returns the process exit code.
int run(const std::vector<std::string>& args);
int validate(const std::vector<std::string>& args);
int plugins(const std::vector<std::string>& args);
int print_usage(bool to_stderr);

}  // namespace logship::commands
