#pragma once
// Redaction rules: RE2 patterns whose matches (or first capturing group, when the pattern has
// one) are replaced by a marker such as "[REDACTED:jwt]". Compiled once per config and shared
// by every stream's processor; matching is thread-safe.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <re2/re2.h>

#include "daemon/core/status.h"

namespace logship::redact {

struct Rule {
  std::string name;
  std::unique_ptr<RE2> re;
  bool luhn = false;   // the replaced text must be a card number passing the Luhn check
  std::string marker;
  std::atomic<uint64_t>* counter = nullptr;   // logship_redactions_total{processor, rule}
};

class RuleSet {
 public:
  // Names of the built-in rules, in the order they run.
  static const std::vector<std::string>& builtin_names();
  // Compiles builtins (by name) then custom rules (name -> pattern); invalid says why not.
  // Matches are counted per rule in the series of `processor` (the redact processor's name).
  Status build(const std::vector<std::string>& builtins,
               const std::map<std::string, std::string>& custom,
               const std::string& marker_template, const std::string& processor);
  const std::vector<Rule>& rules() const { return rules_; }
  // One pass over all rules at once: false means no rule can match, the common case.
  bool may_match(std::string_view text) const;

 private:
  std::vector<Rule> rules_;
  std::unique_ptr<RE2> any_;
};

// Digits of `s` (spaces and dashes skipped) form a plausible card number: 13-19 digits, a known
// issuer prefix and a valid Luhn checksum.
bool is_card_number(std::string_view s);

// Applies the rules to one text, reusing its buffers: no heap allocation when nothing matches
// (and none once the buffers have grown, when something does).
class Redactor {
 public:
  explicit Redactor(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}
  // True when something was replaced; *out then views the redacted text (valid until the next
  // call). Counts every replacement per rule.
  bool apply(std::string_view text, std::string_view* out);

 private:
  std::shared_ptr<const RuleSet> rules_;
  std::string a_, b_;
};

}  // namespace logship::redact
