#include "config/condition_option.h"

namespace logship::config {

std::string compile_condition(const std::string& text, ConditionOption* out) {
  condition::CompileError e;
  auto c = condition::Condition::compile(text, &e);
  if (!c) return "condition \"" + text + "\": " + e.to_string();
  out->text = text;
  out->compiled = std::move(c);
  return "";
}

}  // namespace logship::config
