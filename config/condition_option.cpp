#include "config/condition_option.h"

namespace logship::config {

Status compile_condition(const std::string& text, ConditionOption* out) {
  condition::CompileError e;
  auto c = condition::Condition::compile(text, &e);
  if (!c) return Status::invalid("condition \"" + text + "\": " + e.to_string());
  out->text = text;
  out->compiled = std::move(c);
  return Status::ok();
}

}  // namespace logship::config
