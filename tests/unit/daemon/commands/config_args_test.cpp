#include "daemon/commands/config_args.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace logship::commands {
namespace {

class ConfigSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("LOGSHIP_CONFIG");
    system_path_ = ::testing::TempDir() + "/config_search_system.yaml";
    std::remove(system_path_.c_str());
  }
  void TearDown() override {
    ::unsetenv("LOGSHIP_CONFIG");
    std::remove(system_path_.c_str());
  }
  void create_system_config() { std::ofstream(system_path_) << "inputs: {}\n"; }
  std::string system_path_;
};

TEST_F(ConfigSearchTest, DashCWinsOverEverything) {
  ::setenv("LOGSHIP_CONFIG", "/from/env.yaml", 1);
  create_system_config();
  ConfigArgs a = parse_config_args({"-c", "/given.yaml"}, system_path_.c_str());
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.path, "/given.yaml");
  EXPECT_EQ(a.chosen_by, "-c");
}

TEST_F(ConfigSearchTest, EnvironmentBeforeTheSystemPath) {
  ::setenv("LOGSHIP_CONFIG", "/from/env.yaml", 1);
  create_system_config();
  ConfigArgs a = parse_config_args({}, system_path_.c_str());
  EXPECT_EQ(a.path, "/from/env.yaml");
  EXPECT_EQ(a.chosen_by, "LOGSHIP_CONFIG");
}

TEST_F(ConfigSearchTest, SystemPathWhenItExists) {
  create_system_config();
  ConfigArgs a = parse_config_args({}, system_path_.c_str());
  EXPECT_EQ(a.path, system_path_);
  EXPECT_EQ(a.chosen_by, system_path_);
}

TEST_F(ConfigSearchTest, EmbeddedDefaultWhenNothingElse) {
  ::setenv("LOGSHIP_CONFIG", "", 1);   // set but empty counts as not set
  ConfigArgs a = parse_config_args({}, system_path_.c_str());
  EXPECT_TRUE(a.path.empty());
  EXPECT_EQ(a.chosen_by, "default");
}

TEST_F(ConfigSearchTest, BadArgumentsAreErrors) {
  EXPECT_FALSE(parse_config_args({"-c"}, system_path_.c_str()).ok);
  ConfigArgs a = parse_config_args({"--bogus"}, system_path_.c_str());
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.error, "unexpected argument '--bogus'");
}

}  // namespace
}  // namespace logship::commands
