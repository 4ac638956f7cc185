#pragma once
// Where a config's text comes from: the main file, then the pieces that packaging tools and
// operators drop into the `conf.d/` directory beside it (`*.yaml`, merged in name order).
#include <string>
#include <vector>

#include "config/errors.h"

namespace logship::config {

struct ConfigDocument {
  std::string path;   // as errors name it
  std::string text;
};

// The conf.d directory of a main config file: "<dir of main>/conf.d".
std::string conf_d_dir(const std::string& main_path);

// The `*.yaml` / `*.yml` regular files of conf.d in byte order of their names (`10-a.yaml`
// before `20-b.yaml`); hidden files and editor backups (`~`, `.swp`, `.dpkg-*`) are not
// pieces. A missing directory has none. False (with an error) when it cannot be listed.
bool list_conf_d(const std::string& main_path, std::vector<std::string>* pieces, Errors& errors);

// Reads the main file and its conf.d pieces, main first. False (with errors) when any cannot
// be read: a config is loaded whole or not at all.
bool read_config_documents(const std::string& main_path, std::vector<ConfigDocument>* docs,
                           Errors& errors);

}  // namespace logship::config
