#pragma once
// The index template `index_template: true` installs before the first bulk request: the
// mappings of the fields the documents carry (message as text, every other string a keyword, as
// ECS has them), `data_stream: {}` in data_stream mode, and the ILM policy. PUT is idempotent:
// every start puts the same template again.
#include <string>
#include <string_view>

namespace logship::plugins::es {

// The index option with every {field} and %X conversion turned into '*': "logs-{input}-%Y.%m"
// -> "logs-*-*".
std::string index_pattern(std::string_view index);

struct TemplateSpec {
  std::string pattern;      // index_patterns
  bool data_stream = false;
  std::string ilm_policy;   // index.lifecycle.name; empty = none
};

// The body of PUT _index_template/<name>.
std::string index_template_body(const TemplateSpec& spec);

}  // namespace logship::plugins::es
