#include <cstdio>

#include "daemon/registry/config_dump.h"
#include "config/substitution.h"
#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"

namespace logship::commands {

int validate(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  bool print = false;
  bool offline = false;
  for (const auto& x : args) {
    if (x == "--print") {
      print = true;
    } else if (x == "--offline") {
      offline = true;
    } else {
      rest.push_back(x);
    }
  }
  ConfigArgs a = parse_config_args(rest);
  if (!a.ok) {
    std::fprintf(stderr, "logship validate: %s\n", a.error.c_str());
    return 2;
  }
  std::optional<config::OfflineSecretsScope> no_secret_files;
  if (offline) no_secret_files.emplace();
  std::optional<config::Config> cfg = load_or_report(a);
  if (!cfg) return 1;
  if (print) {
    std::fputs(config::effective_config_yaml(cfg->text, *cfg).c_str(), stdout);
    return 0;
  }
  std::printf("%s: OK (%zu inputs, %zu processors, %zu outputs, %zu routes)\n",
              a.path.empty() ? "<default config>" : a.path.c_str(), cfg->inputs.size(),
              cfg->processors.size(), cfg->outputs.size(), cfg->routes.size());
  for (const std::string& piece : cfg->pieces) std::printf("  merged %s\n", piece.c_str());
  return 0;
}

}  // namespace logship::commands
