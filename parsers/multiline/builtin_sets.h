#pragma once
// Rule sets that live in their own files; builtin_rules() hands them out by name.
#include "parsers/multiline/rules.h"

namespace logship::parsers {

const LineRules& dotnet_rules();
const LineRules& php_rules();
const LineRules& header_rules();

}  // namespace logship::parsers
