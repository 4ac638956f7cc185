// The document options as an output's YAML declares them: defaults per output, the nested
// labels map, and its errors.
#include <gtest/gtest.h>

#include "config/errors.h"
#include "outputs/elasticsearch/es_output.h"

namespace logship::plugins::es {
namespace {

TEST(DocumentOptions, ElasticsearchDefaultsToEcsAndReadsTheLabelsMap) {
  EsOptions defaults;
  EXPECT_EQ(defaults.schema_name, "ecs");
  EXPECT_TRUE(defaults.dedot);

  YAML::Node n = YAML::Load(
      "schema: otel\ndedot: false\nlabels: {include: ['com.docker.*'], exclude: ['*.hash']}\n"
      "labels_max_bytes: 1KiB\nfields_under: app\n");
  EsOptions o;
  config::Errors errors;
  ASSERT_TRUE(EsOptions::schema().bind(n, o, errors, "outputs.es")) << errors.to_string();
  EXPECT_EQ(o.schema_name, "otel");
  EXPECT_FALSE(o.dedot);
  EXPECT_EQ(o.labels.include, (std::vector<std::string>{"com.docker.*"}));
  EXPECT_EQ(o.labels.exclude, (std::vector<std::string>{"*.hash"}));
  EXPECT_EQ(o.labels_max_bytes.bytes, 1024u);
  EXPECT_EQ(o.fields_under, "app");
}

TEST(DocumentOptions, MistakesInTheLabelsMapAreReportedWithTheKey) {
  EsOptions o;
  config::Errors errors;
  EXPECT_FALSE(EsOptions::schema().bind(YAML::Load("labels: {includes: [a]}\nschema: ecss\n"), o,
                                        errors, "outputs.es"));
  ASSERT_EQ(errors.all().size(), 2u) << errors.to_string();
  EXPECT_NE(errors.all()[0].message.find("'labels': unknown option 'includes'"), std::string::npos)
      << errors.all()[0].message;
  EXPECT_NE(errors.all()[0].message.find("include"), std::string::npos);
  EXPECT_NE(errors.all()[1].message.find("expected one of ecs, otel, logship"), std::string::npos)
      << errors.all()[1].message;
}

TEST(DocumentOptions, DescribedDefaults) {
  std::string labels_default, schema_default;
  for (const auto& d : EsOptions::schema().describe()) {
    if (d.name == "labels") labels_default = d.default_value;
    if (d.name == "schema") schema_default = d.default_value;
  }
  EXPECT_EQ(labels_default, "{include: [], exclude: []}");
  EXPECT_EQ(schema_default, "ecs");
}

}  // namespace
}  // namespace logship::plugins::es
