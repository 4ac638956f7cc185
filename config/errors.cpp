#include "config/errors.h"

#include "config/substitution.h"

namespace logship::config {

std::string ConfigError::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line) + ":" + std::to_string(column);
  }
  out += ": " + message;
  return out;
}

void Errors::add(const YAML::Mark& mark, std::string message) {
  ConfigError e;
  e.file = file_;
  if (!mark.is_null()) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  // Every config message passes here: secret values never reach a log or a terminal.
  e.message = mask_secrets(std::move(message));
  errors_.push_back(std::move(e));
}

std::string Errors::to_string() const {
  std::string out;
  for (const auto& e : errors_) {
    out += e.to_string();
    out += "\n";
  }
  return out;
}

}  // namespace logship::config
