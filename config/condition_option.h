#pragma once
// An option holding a condition (filter's keep_if, a route's match): compiled and type-checked
// while the config is validated, so `logship validate` reports the column of a mistake.
#include <memory>
#include <string>

#include "config/option_types.h"
#include "daemon/core/condition/condition.h"

namespace logship::config {

struct ConditionOption {
  std::string text;
  std::shared_ptr<const condition::Condition> compiled;   // null when not given
  explicit operator bool() const { return compiled != nullptr; }
};

// Compiles `text`; invalid with the column inside the expression.
Status compile_condition(const std::string& text, ConditionOption* out);

template <>
struct OptionTraits<ConditionOption> {
  static std::string type_name() { return "condition"; }
  static Status parse(const YAML::Node& n, ConditionOption* out) {
    std::string text;
    LOGSHIP_TRY(read_scalar(n, &text));
    return compile_condition(text, out);
  }
  static std::string format(const ConditionOption& v) {
    return v.text.empty() ? "\"\"" : v.text;
  }
};

}  // namespace logship::config
