#include "inputs/file/path_regex.h"

#include <gtest/gtest.h>

#include "inputs/file/generation_name.h"

namespace logship::file {
namespace {

TEST(PathRegexTest, NamedGroupsBecomeFieldsOfAWholeMatch) {
  auto compiled = PathRegex::compile(R"(/var/log/(?P<service>[^/]+)/(?P<file>.*)\.log)");
  ASSERT_TRUE(compiled.is_ok()) << compiled.status().message();
  const PathRegex& re = compiled.value();
  std::vector<std::pair<std::string, std::string>> fields;
  ASSERT_TRUE(re.match("/var/log/nginx/access.log", &fields));
  EXPECT_EQ(fields, (std::vector<std::pair<std::string, std::string>>{{"service", "nginx"},
                                                                      {"file", "access"}}));
  ASSERT_TRUE(re.match("/var/log/app/a/b.log", &fields));
  EXPECT_EQ(fields[1].second, "a/b");
  // The whole path: a prefix or a suffix match is no match.
  EXPECT_FALSE(re.match("/var/log/nginx/access.log.1", &fields));
  EXPECT_FALSE(re.matches("/srv/var/log/nginx/access.log"));
  EXPECT_TRUE(re.matches("/var/log/nginx/error.log"));
}

TEST(PathRegexTest, ClearErrorsAtValidate) {
  auto bad = PathRegex::compile("/var/log/(?P<service>[^/]+");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("does not compile"), std::string::npos)
      << bad.status().message();
  auto unnamed = PathRegex::compile("/var/log/.*\\.log");
  ASSERT_FALSE(unnamed.is_ok());
  EXPECT_NE(unnamed.status().message().find("no named group"), std::string::npos)
      << unnamed.status().message();
}

TEST(GenerationNameTest, CompressedGenerations) {
  EXPECT_EQ(compressed_generation_base("app.log.1.gz"), "app.log");
  EXPECT_EQ(compressed_generation_base("app.log-20261204.gz"), "app.log");
  EXPECT_EQ(compressed_generation_base("c1-json.log.3.gz"), "c1-json.log");
  EXPECT_FALSE(compressed_generation_base("app.log.gz"));
  EXPECT_FALSE(compressed_generation_base("app.log.1"));
  EXPECT_FALSE(compressed_generation_base(".gz"));
}

}  // namespace
}  // namespace logship::file
