#include "daemon/commands/config_args.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

namespace logship::commands {

ConfigArgs parse_config_args(const std::vector<std::string>& args, const char* system_path) {
  ConfigArgs r;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-c" || a == "--config") {
      if (i + 1 >= args.size()) {
        r.ok = false;
        r.error = a + " needs a file name";
        return r;
      }
      r.path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      r.path = a.substr(9);
    } else {
      r.ok = false;
      r.error = "unexpected argument '" + a + "'";
      return r;
    }
  }
  if (!r.path.empty()) {
    r.chosen_by = "-c";
  } else if (const char* env = std::getenv("LOGSHIP_CONFIG"); env != nullptr && *env != '\0') {
    r.path = env;
    r.chosen_by = "LOGSHIP_CONFIG";
  } else if (struct stat st {}; ::stat(system_path, &st) == 0) {
    r.path = system_path;
    r.chosen_by = system_path;
  } else {
    r.chosen_by = "default";
  }
  return r;
}

std::optional<config::Config> load_or_report(const ConfigArgs& a) {
  const std::string source = a.path.empty() ? "<default config>" : a.path;
  config::Errors errors(source);
  std::optional<config::Config> cfg =
      a.path.empty() ? config::load_config_text(config::default_config_text(), source, errors)
                     : config::load_config_file(a.path, errors);
  if (!cfg) {
    std::fputs(errors.to_string().c_str(), stderr);
    std::fprintf(stderr, "%zu error(s) in %s\n", errors.all().size(), source.c_str());
  }
  return cfg;
}

}  // namespace logship::commands
