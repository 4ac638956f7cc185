#include <gtest/gtest.h>

#include "daemon/runtime/log.h"

namespace logship::log {
namespace {

std::string as_json(std::string_view kvs) {
  std::string out = "{\"a\":1";
  append_kvs_as_json(out, kvs);
  return out + "}";
}

TEST(LogFormatTest, LogfmtPairsBecomeJsonMembers) {
  EXPECT_EQ(as_json(kv("path", "/var/log/x") + kv("n", int64_t{-42}) + kv("msg", "two words")),
            R"({"a":1,"path":"/var/log/x","n":-42,"msg":"two words"})");
  EXPECT_EQ(as_json(kv("q", "say \"hi\" \\ now") + kv("empty", "")),
            R"({"a":1,"q":"say \"hi\" \\ now","empty":""})");
  EXPECT_EQ(as_json(kv("version", "0.1.0") + kv("big", "12345678901234567890")),
            R"({"a":1,"version":"0.1.0","big":"12345678901234567890"})");
  EXPECT_EQ(as_json(""), R"({"a":1})");
}

TEST(LogFormatTest, FormatNames) {
  Format f;
  EXPECT_TRUE(parse_format("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_TRUE(parse_format("logfmt", &f));
  EXPECT_EQ(f, Format::kLogfmt);
  EXPECT_FALSE(parse_format("text", &f));
}

}  // namespace
}  // namespace logship::log
