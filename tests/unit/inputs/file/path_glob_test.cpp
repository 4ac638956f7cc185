#include "inputs/file/path_glob.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "inputs/file/generation_name.h"
#include "inputs/tail/dir_list.h"

namespace logship::file {
namespace {

namespace fs = std::filesystem;

PathGlob glob(const std::string& p) {
  auto g = PathGlob::parse(p);
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  return g.is_ok() ? std::move(g).value() : PathGlob();
}

TEST(PathGlobTest, ComponentsAndDoubleStar) {
  EXPECT_TRUE(glob("/var/log/*.log").matches("/var/log/syslog.log"));
  EXPECT_FALSE(glob("/var/log/*.log").matches("/var/log/nginx/access.log"));
  EXPECT_FALSE(glob("/var/log/*.log").matches("/var/log/.hidden.log"));
  EXPECT_TRUE(glob("/var/log/**/*.log").matches("/var/log/a.log"));
  EXPECT_TRUE(glob("/var/log/**/*.log").matches("/var/log/x/y/z/a.log"));
  EXPECT_FALSE(glob("/var/log/**/*.log").matches("/var/lib/a.log"));
  EXPECT_TRUE(glob("/srv/**/logs/**/app-?.log").matches("/srv/a/b/logs/app-1.log"));
  EXPECT_FALSE(glob("/srv/**/logs/**/app-?.log").matches("/srv/a/b/app-1.log"));
  EXPECT_TRUE(glob("/a/[bc]/*.log").matches("/a/c/x.log"));
}

TEST(PathGlobTest, RejectsRelativeDotsAndTrailingDoubleStar) {
  EXPECT_FALSE(PathGlob::parse("var/log/*.log").is_ok());
  EXPECT_FALSE(PathGlob::parse("/var/log/../etc/*").is_ok());
  EXPECT_FALSE(PathGlob::parse("/var/log/**").is_ok());
}

TEST(PathGlobTest, ExpandsToRegularFilesNeverThroughSymlinks) {
  char tmpl[] = "/tmp/logship-glob-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  fs::create_directories(root + "/logs/a/b");
  fs::create_directories(root + "/outside");
  for (const char* f : {"/logs/x.log", "/logs/a/b/y.log", "/logs/a/z.txt", "/outside/s.log"}) {
    std::ofstream(root + f) << "x\n";
  }
  fs::create_symlink(root + "/outside/s.log", root + "/logs/link.log");
  fs::create_symlink(root + "/outside", root + "/logs/linkdir");
  fs::create_directories(root + "/logs/dir.log");   // a directory is not a log file
  PathGlob::Walker w;
  std::set<std::string> visited;
  w.list = [](const std::string& d, std::vector<std::string>* n) {
    return tail::list_dir(d, false, n);
  };
  w.visit = [&](const std::string& d) { visited.insert(d); };
  std::set<std::string> got;
  glob(root + "/logs/**/*.log").expand(w, &got);
  EXPECT_EQ(got, (std::set<std::string>{root + "/logs/x.log", root + "/logs/a/b/y.log"}));
  EXPECT_TRUE(visited.count(root + "/logs/a/b"));
  EXPECT_FALSE(visited.count(root + "/logs/linkdir"));
  fs::remove_all(root);
}

TEST(GenerationNameTest, LogrotateShapes) {
  EXPECT_TRUE(is_generation_of("app.log", "app.log.1"));
  EXPECT_TRUE(is_generation_of("app.log", "app.log.12"));
  EXPECT_TRUE(is_generation_of("app.log", "app.log-20261204"));
  EXPECT_FALSE(is_generation_of("app.log", "app.log.1.gz"));
  EXPECT_FALSE(is_generation_of("app.log", "app.log.old"));
  EXPECT_FALSE(is_generation_of("app.log", "app.log"));
  EXPECT_FALSE(is_generation_of("app.log", "app.log."));
  EXPECT_FALSE(is_generation_of("app.log", "app.logs.1"));
  EXPECT_EQ(generation_base("app.log.1"), "app.log");
  EXPECT_EQ(generation_base("app.log-20261204"), "app.log");
  EXPECT_EQ(generation_base("a-1.2"), "a-1");
  EXPECT_EQ(generation_base("app.log"), std::nullopt);
  EXPECT_EQ(generation_base("app.log.1.gz"), std::nullopt);
  EXPECT_EQ(generation_base("app.log."), std::nullopt);
  EXPECT_EQ(generation_base(".1"), std::nullopt);
}

}  // namespace
}  // namespace logship::file
