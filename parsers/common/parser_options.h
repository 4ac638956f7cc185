#pragma once
// The options several parsers share, each declared once with one description: a parser's schema
// calls the adder with its own member (defaults stay the parser's own).
#include <string>
#include <string_view>
#include <vector>

#include "config/option_schema.h"

namespace logship::parsers {

// `field`: what to parse.
template <class O>
config::OptionSchema<O>& add_field_option(config::OptionSchema<O>& s, std::string O::*member) {
  return s.add("field", member,
               "What to parse: the message (empty or \"message\") or the event field of this "
               "name. Events without it pass untouched.");
}

// `keep_original`; `replacement`: what a parsed message becomes without it ("the message_key
// value"); `note`: what keeping changes besides.
template <class O>
config::OptionSchema<O>& add_keep_original_option(config::OptionSchema<O>& s, bool O::*member,
                                                  std::string_view replacement,
                                                  std::string_view note = {}) {
  std::string doc = "Keep the parsed text. Without it a parsed message is replaced by " +
                    std::string(replacement) + " (or emptied) and a parsed field is removed.";
  if (!note.empty()) doc += " " + std::string(note);
  return s.add("keep_original", member, std::move(doc));
}

// What keep_original changes for the parsers with message_key.
inline constexpr std::string_view kKeepOriginalSkipsMessageKey =
    "With it and the message parsed, message_key is not applied (its key stays a field).";

// `message_key`: which parsed key becomes the message.
template <class O>
config::OptionSchema<O>& add_message_key_option(config::OptionSchema<O>& s,
                                                std::vector<std::string> O::*member) {
  return s.add("message_key", member,
               "Keys tried in order; the first present becomes the event message (a non-string "
               "as its text) and is not added as a field. [] = none.");
}

// `when_label`: the container label gate (LabelCondition); `example`: a typical value.
template <class O>
config::OptionSchema<O>& add_when_label_option(config::OptionSchema<O>& s, std::string O::*member,
                                               std::string_view example = {}) {
  std::string doc =
      "Apply only to containers whose label matches: LABEL=VALUE[|VALUE...] or LABEL (present).";
  if (!example.empty()) doc += " E.g. " + std::string(example) + ".";
  return s.add("when_label", member, doc + " Empty = every stream.");
}

}  // namespace logship::parsers
