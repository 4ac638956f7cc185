#pragma once
// People arrive with a Fluent Bit, Vector, Filebeat or OpenTelemetry Collector config in their
// head. A word one of them uses where logship says something else gets a pointer to logship's
// word instead of a bare "unknown".
#include <string>
#include <string_view>

namespace logship::config {

enum class Spelling { kSection, kOption, kInputType, kProcessorType, kOutputType };

// "; <peer> calls it X: use Y" or "" when `word` (compared case-insensitively, '.' '-' '_'
// alike) is no peer's spelling known here.
std::string peer_spelling_hint(Spelling where, std::string_view word);

}  // namespace logship::config
