#include "outputs/elasticsearch/index_template.h"

#include "daemon/core/json_writer.h"

namespace logship::plugins::es {

std::string index_pattern(std::string_view index) {
  std::string out;
  for (std::size_t i = 0; i < index.size(); ++i) {
    const char c = index[i];
    if (c == '{') {
      std::size_t close = index.find('}', i);
      if (close == std::string_view::npos) break;
      i = close;
    } else if (c == '%' && i + 1 < index.size()) {
      ++i;
    } else {
      out.push_back(c);
      continue;
    }
    if (out.empty() || out.back() != '*') out.push_back('*');
  }
  return out;
}

std::string index_template_body(const TemplateSpec& spec) {
  std::string b = "{\"index_patterns\":[";
  json::append_string(b, spec.pattern);
  // Above the built-in logs-*-* template of Elasticsearch (100), so that ours applies.
  b += "],\"priority\":200,";
  if (spec.data_stream) b += "\"data_stream\":{},";
  b += "\"template\":{";
  if (!spec.ilm_policy.empty()) {
    b += "\"settings\":{\"index.lifecycle.name\":";
    json::append_string(b, spec.ilm_policy);
    b += "},";
  }
  // ECS types: message and error texts are full text; every other string (ids, names, labels,
  // levels, paths) a keyword, so that terms and aggregations work without .keyword.
  b += "\"mappings\":{\"dynamic_templates\":[{\"strings_as_keyword\":{"
       "\"match_mapping_type\":\"string\","
       "\"mapping\":{\"type\":\"keyword\",\"ignore_above\":1024}}}],"
       "\"properties\":{\"@timestamp\":{\"type\":\"date\"},\"message\":{\"type\":\"text\"},"
       "\"body\":{\"type\":\"text\"},"
       "\"error\":{\"properties\":{\"message\":{\"type\":\"text\"},"
       "\"stack_trace\":{\"type\":\"text\"}}}}}}}";
  return b;
}

}  // namespace logship::plugins::es
