#pragma once
// Config errors carry file:line:column; loading collects all of them instead of stopping at one.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace logship::config {

struct ConfigError {
  std::string file;
  int line = 0;     // 1-based; 0 when unknown
  int column = 0;   // 1-based
  std::string message;
  std::string to_string() const;
};

class Errors {
 public:
  explicit Errors(std::string file = "<config>") : file_(std::move(file)) {}
  void add(const YAML::Mark& mark, std::string message);
  void add(std::string message) { add(YAML::Mark::null_mark(), std::move(message)); }
  bool empty() const { return errors_.empty(); }
  const std::vector<ConfigError>& all() const { return errors_; }
  std::string to_string() const;   // one error per line
  const std::string& file() const { return file_; }
  // Errors added from now on name this file (a config is the main file plus conf.d pieces).
  void set_file(std::string file) { file_ = std::move(file); }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace logship::config
