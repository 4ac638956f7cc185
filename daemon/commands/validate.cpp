#include <cstdio>

#include "config/config_dump.h"
#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"

namespace logship::commands {

int validate(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  bool print = false;
  for (const auto& x : args) {
    if (x == "--print") {
      print = true;
    } else {
      rest.push_back(x);
    }
  }
  ConfigArgs a = parse_config_args(rest);
  if (!a.ok) {
    std::fprintf(stderr, "logship validate: %s\n", a.error.c_str());
    return 2;
  }
  std::optional<config::Config> cfg = load_or_report(a);
  if (!cfg) return 1;
  if (print) {
    std::fputs(config::effective_config_yaml(cfg->text, *cfg).c_str(), stdout);
    return 0;
  }
  std::printf("%s: OK (%zu inputs, %zu processors, %zu outputs, %zu routes)\n",
              a.path.empty() ? "<default config>" : a.path.c_str(), cfg->inputs.size(),
              cfg->processors.size(), cfg->outputs.size(), cfg->routes.size());
  return 0;
}

int print_usage(bool to_stderr) {
  std::FILE* f = to_stderr ? stderr : stdout;
  std::fputs(
      "usage: logship [command] [options]\n"
      "\n"
      "  run [-c FILE]               run the daemon (default: the embedded default config)\n"
      "  reload -c FILE              validate FILE, then make the daemon running it re-read it\n"
      "                              (SIGHUP to the pid in <state_dir>/logship.pid)\n"
      "  validate [-c FILE] [--print]  check a config and exit 0 (valid) or 1 (errors);\n"
      "                              --print: the effective config (defaults filled in,\n"
      "                              ${...} expanded, secrets as ***)\n"
      "  plugins                     list the available inputs, processors and outputs\n"
      "  plugins describe NAME [--json]  print a plugin's options\n"
      "  dead-letters list FILE...   summarize dead-letter files: count per output and error,\n"
      "                              first reasons\n"
      "  dead-letters replay FILE --output NAME [-c FILE]\n"
      "                              send the events of FILE again through output NAME (after\n"
      "                              fixing what rejected them); what is delivered leaves FILE\n"
      "  --version                   print the version\n",
      f);
  return to_stderr ? 2 : 0;
}

}  // namespace logship::commands
