#include "outputs/elasticsearch/index_template.h"

#include <gtest/gtest.h>

namespace logship::plugins::es {
namespace {

TEST(IndexTemplate, PatternStarsEveryFieldAndTimeConversion) {
  EXPECT_EQ(index_pattern("logs-docker-default"), "logs-docker-default");
  EXPECT_EQ(index_pattern("logs-{input}-%Y.%m.%d"), "logs-*-*.*.*");
  EXPECT_EQ(index_pattern("logship-%Y.%m.%d"), "logship-*.*.*");
  EXPECT_EQ(index_pattern("{container_name}%Y"), "*");
}

TEST(IndexTemplate, BodyForADataStreamWithAPolicy) {
  EXPECT_EQ(index_template_body({"logs-docker-*", true, "logs-30d"}),
            "{\"index_patterns\":[\"logs-docker-*\"],\"priority\":200,\"data_stream\":{},"
            "\"template\":{\"settings\":{\"index.lifecycle.name\":\"logs-30d\"},"
            "\"mappings\":{\"dynamic_templates\":[{\"strings_as_keyword\":{"
            "\"match_mapping_type\":\"string\",\"mapping\":{\"type\":\"keyword\","
            "\"ignore_above\":1024}}}],\"properties\":{\"@timestamp\":{\"type\":\"date\"},"
            "\"message\":{\"type\":\"text\"},\"body\":{\"type\":\"text\"},"
            "\"error\":{\"properties\":{\"message\":{\"type\":\"text\"},"
            "\"stack_trace\":{\"type\":\"text\"}}}}}}}");
  std::string plain = index_template_body({"logship-*", false, ""});
  EXPECT_EQ(plain.find("data_stream"), std::string::npos);
  EXPECT_EQ(plain.find("settings"), std::string::npos);
}

}  // namespace
}  // namespace logship::plugins::es
