#pragma once
#include <string>
#include <string_view>

namespace logship::config {

// Expands ${NAME}, ${NAME:-default} (environment) and ${file:PATH} (file contents, one trailing
// newline removed: the usual shape of a mounted secret). "$${" is a literal "${".
// Returns false with *error set when a variable is unset without default or a file is unreadable.
bool substitute(std::string_view in, std::string* out, std::string* error);

}  // namespace logship::config
