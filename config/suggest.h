#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace logship::config {

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a typo.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
// "; did you mean 'x'?" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace logship::config
