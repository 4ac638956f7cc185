#include <malloc.h>

#include <cstdio>
#include <string>
#include <vector>

#include "daemon/commands/commands.h"

int main(int argc, char** argv) {
  // Batches are arenas of up to a few MiB, allocated on a reading thread and freed on an
  // output's. glibc raises its mmap threshold after such frees, which moves later batches onto
  // the heap, where the holes they leave keep RSS above what is live and above
  // service.memory_limit (measured: bench/README.md, "memory budget"). A fixed threshold keeps
  // them mapped and returns them to the system when freed.
  mallopt(M_MMAP_THRESHOLD, 128 << 10);
  std::vector<std::string> args(argv + 1, argv + argc);
  // Bare `logship` is a question, not a request to start a daemon on whatever config is found.
  if (args.empty()) return logship::commands::print_usage(true);
  const std::string verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const std::string& a : rest) {
    if ((a == "--help" || a == "-h") && logship::commands::print_command_help(verb)) return 0;
  }
  if (verb == "--version" || verb == "version") {
    std::printf("logship %s\n", LOGSHIP_VERSION);
    return 0;
  }
  if (verb == "--help" || verb == "-h" || verb == "help") return logship::commands::print_usage(false);
  if (verb == "run") return logship::commands::run(rest);
  if (verb == "reload") return logship::commands::reload(rest);
  if (verb == "validate") return logship::commands::validate(rest);
  if (verb == "plugins") return logship::commands::plugins(rest);
  if (verb == "dead-letters") return logship::commands::dead_letters(rest);
  if (verb == "fsck") return logship::commands::fsck(rest);
  if (verb == "top") return logship::commands::top(rest);
  if (verb == "tap") return logship::commands::tap(rest);
  if (verb == "test") return logship::commands::config_test(rest);
  if (verb == "-c" || verb == "--config") return logship::commands::run(args);
  std::fprintf(stderr, "logship: unknown command '%s'\n\n", verb.c_str());
  logship::commands::print_usage(true);
  return 2;
}
