#include "daemon/registry/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "config/substitution.h"

namespace logship::config {
namespace {

std::vector<std::string> load_errors(const std::string& yaml) {
  Errors errors("test.yaml");
  auto cfg = load_config_text(yaml, "test.yaml", errors);
  std::vector<std::string> out;
  for (const auto& e : errors.all()) out.push_back(e.to_string());
  EXPECT_EQ(cfg.has_value(), out.empty());
  return out;
}

TEST(ConfigLoaderTest, ValidConfigLoadsWithDefaultRoute) {
  Errors errors("t");
  auto cfg = load_config_text(R"(
inputs:
  gen: {type: generate, count: 10}
outputs:
  out: {type: null}
)",
                              "t", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  ASSERT_EQ(cfg->routes.size(), 1u);
  EXPECT_EQ(cfg->routes[0].outputs, std::vector<std::string>{"out"});
  EXPECT_EQ(cfg->input_route, std::vector<std::size_t>{0});
}

TEST(ConfigLoaderTest, UnknownOptionNamesLineColumnAndSuggestion) {
  auto errs = load_errors(R"(inputs:
  gen:
    type: generate
    cuont: 5
outputs:
  out: {type: null}
)");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0],
            "test.yaml:4:5: inputs.gen (generate): unknown option 'cuont'; did you mean 'count'?");
}

TEST(ConfigLoaderTest, OutputBufferBlockIsReadAndChecked) {
  Errors errors("t");
  auto cfg = load_config_text(R"(
inputs:
  gen: {type: generate, count: 10}
outputs:
  out:
    type: null
    buffer: {type: disk, max_size: 2GiB, when_full: drop_oldest, fsync: batch}
)",
                              "t", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  const BufferOptions& b = cfg->outputs[0].buffer;
  EXPECT_EQ(b.type, BufferType::kDisk);
  EXPECT_EQ(b.max_size.bytes, 2ull << 30);
  EXPECT_EQ(b.when_full, BufferWhenFull::kDropOldest);
  EXPECT_EQ(b.fsync, BufferFsync::kBatch);

  auto errs = load_errors(R"(inputs:
  gen: {type: generate}
outputs:
  a:
    type: null
    buffer: {type: memory, when_full: drop_oldest}
  b:
    type: null
    buffer: {type: disk, fsinc: batch}
  c:
    type: null
    buffer: {type: ram}
)");
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0], "test.yaml:6:13: outputs.a.buffer: when_full: drop_oldest needs type: disk "
                     "(a memory buffer only blocks)");
  EXPECT_EQ(errs[1],
            "test.yaml:9:26: outputs.b.buffer: unknown option 'fsinc'; did you mean 'fsync'?");
  EXPECT_EQ(errs[2], "test.yaml:12:20: outputs.c.buffer: 'type': expected one of memory, disk, "
                     "got \"ram\"");
}

TEST(ConfigLoaderTest, UnknownTypeSuggestsNearestPlugin) {
  auto errs = load_errors("inputs:\n  a: {type: generat}\noutputs:\n  o: {type: nul}\n");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "test.yaml:2:13: inputs.a: unknown input type 'generat'; did you mean 'generate'?");
  EXPECT_EQ(errs[1], "test.yaml:4:13: outputs.o: unknown output type 'nul'; did you mean 'null'?");
}

TEST(ConfigLoaderTest, ReportsEveryErrorNotJustTheFirst) {
  auto errs = load_errors(R"(service:
  queue_max_bytes: lots
  drain_timeout: soon
inputs:
  gen: {type: generate, rate: -1}
outputs:
  out: {type: file, path: /tmp/x.log, format: xml}
)");
  ASSERT_EQ(errs.size(), 4u);
  EXPECT_EQ(errs[0], "test.yaml:2:20: service: 'queue_max_bytes': expected a size like 64MiB "
                     "(KiB/MiB/GiB: powers of 1024; KB/MB/GB: powers of 1000), got \"lots\"");
  EXPECT_EQ(errs[1], "test.yaml:3:18: service: 'drain_timeout': expected a duration like 5s or 250ms, got \"soon\"");
  EXPECT_EQ(errs[2], "test.yaml:5:31: inputs.gen (generate): 'rate': must be at least 0");
  EXPECT_EQ(errs[3], "test.yaml:7:47: outputs.out (file): 'format': expected one of json, raw, got \"xml\"");
}

TEST(ConfigLoaderTest, UnknownSectionAndMissingType) {
  auto errs = load_errors("input:\n  a: {type: generate}\ninputs:\n  b: {count: 1}\noutputs:\n  o: {type: null}\n");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], "test.yaml:1:1: unknown section 'input'; did you mean 'inputs'?");
  EXPECT_NE(errs[1].find("test.yaml:4:6: inputs.b: missing 'type'"), std::string::npos) << errs[1];
}

TEST(ConfigLoaderTest, DuplicateOptionIsAnError) {
  auto errs = load_errors("inputs:\n  a:\n    type: generate\n    count: 1\n    count: 2\noutputs:\n  o: {type: null}\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "test.yaml:5:5: inputs.a (generate): option 'count' is given twice");
}

TEST(ConfigLoaderTest, RoutesReferToExistingComponents) {
  auto errs = load_errors(R"(inputs:
  a: {type: generate}
outputs:
  archive: {type: null}
routes:
  - match: [a]
    outputs: [archiv]
)");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "test.yaml:7:14: routes[0].outputs: no output named 'archiv'; did you mean 'archive'?");
}

TEST(ConfigLoaderTest, InputMatchedByTwoRoutesIsAnError) {
  auto errs = load_errors(R"(inputs:
  a: {type: generate}
outputs:
  o1: {type: null}
  o2: {type: null}
routes:
  - {match: ["*"], outputs: [o1]}
  - {match: [a], outputs: [o2]}
)");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].find("inputs.a: matched by routes[0] and routes[1]"), std::string::npos);
}

TEST(ConfigLoaderTest, InputWithoutRouteIsAnError) {
  auto errs = load_errors(R"(inputs:
  a: {type: generate}
  b: {type: generate}
outputs:
  o: {type: null}
routes:
  - {match: [a], outputs: [o]}
)");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "test.yaml:3:3: inputs.b: no route matches this input");
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasPosition) {
  auto errs = load_errors("inputs:\n  a: {type: generate\noutputs: [\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].rfind("test.yaml:", 0), 0u);
  EXPECT_NE(errs[0].find("YAML syntax error"), std::string::npos);
}

TEST(ConfigLoaderTest, EmbeddedDefaultConfigIsValid) {
  Errors errors("<default>");
  auto cfg = load_config_text(default_config_text(), "<default>", errors);
  EXPECT_TRUE(cfg) << errors.to_string();
}

TEST(ConfigLoaderTest, EveryPluginOptionHasDocumentation) {
  for (const PluginInfo* p : all_plugins()) {
    EXPECT_FALSE(p->summary.empty()) << p->name;
    for (const auto& d : p->schema().describe()) {
      EXPECT_FALSE(d.doc.empty()) << p->name << "." << d.name;
      EXPECT_FALSE(d.type.empty()) << p->name << "." << d.name;
    }
  }
}

TEST(SubstitutionTest, EnvironmentFileAndDefaults) {
  ::setenv("LOGSHIP_TEST_VAR", "abc", 1);
  ::unsetenv("LOGSHIP_TEST_UNSET");
  const std::string secret = ::testing::TempDir() + "/secret";
  {
    std::ofstream f(secret);
    f << "s3cr3t\n";
  }
  std::string out;
  Status st;
  ASSERT_TRUE(substitute("x-${LOGSHIP_TEST_VAR}-y", &out).is_ok());
  EXPECT_EQ(out, "x-abc-y");
  ASSERT_TRUE(substitute("${LOGSHIP_TEST_UNSET:-/var/lib}", &out).is_ok());
  EXPECT_EQ(out, "/var/lib");
  ASSERT_TRUE(substitute("${file:" + secret + "}", &out).is_ok());
  EXPECT_EQ(out, "s3cr3t");
  ASSERT_TRUE(substitute("$${LITERAL}", &out).is_ok());
  EXPECT_EQ(out, "${LITERAL}");
  st = substitute("${LOGSHIP_TEST_UNSET}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("'LOGSHIP_TEST_UNSET' is not set"), std::string::npos);
  EXPECT_FALSE(substitute("${file:/nonexistent/secret}", &out).is_ok());
  EXPECT_FALSE(substitute("${UNTERMINATED", &out).is_ok());
}

TEST(SubstitutionTest, ShellFormsOfDefaultsAndRequiredVariables) {
  ::setenv("LOGSHIP_TEST_EMPTY", "", 1);
  ::setenv("LOGSHIP_TEST_VAR", "abc", 1);
  ::unsetenv("LOGSHIP_TEST_UNSET");
  std::string out;
  Status st;
  // '-' without ':' keeps an empty value; ':-' replaces it.
  ASSERT_TRUE(substitute("[${LOGSHIP_TEST_EMPTY-dflt}]", &out).is_ok());
  EXPECT_EQ(out, "[]");
  ASSERT_TRUE(substitute("[${LOGSHIP_TEST_EMPTY:-dflt}]", &out).is_ok());
  EXPECT_EQ(out, "[dflt]");
  ASSERT_TRUE(substitute("${LOGSHIP_TEST_UNSET-a:b}", &out).is_ok());
  EXPECT_EQ(out, "a:b");
  ASSERT_TRUE(substitute("${LOGSHIP_TEST_VAR:?needed}", &out).is_ok());
  EXPECT_EQ(out, "abc");
  // '?' fails with the operator's message; ':?' also for an empty value, '?' only when unset.
  st = substitute("${LOGSHIP_TEST_UNSET:?set the archive directory}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), "environment variable 'LOGSHIP_TEST_UNSET' is not set: set the archive directory");
  st = substitute("${LOGSHIP_TEST_EMPTY:?must not be empty}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), "environment variable 'LOGSHIP_TEST_EMPTY' is empty: must not be empty");
  ASSERT_TRUE(substitute("[${LOGSHIP_TEST_EMPTY?unset}]", &out).is_ok());
  EXPECT_EQ(out, "[]");
  st = substitute("${LOGSHIP_TEST_UNSET?}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.message(), "environment variable 'LOGSHIP_TEST_UNSET' is not set");
}

TEST(SubstitutionTest, OfflineLetsAMissingSecretFileBeEmptyOnlyInItsScope) {
  std::string out;
  Status st;
  {
    OfflineSecretsScope offline;
    st = substitute("pw=${file:/nonexistent/secret};", &out);
    ASSERT_TRUE(st.is_ok()) << st.message();
    EXPECT_EQ(out, "pw=;");
  }
  st = substitute("pw=${file:/nonexistent/secret};", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("cannot read secret file '/nonexistent/secret'"), std::string::npos);
}

TEST(SubstitutionTest, FileSubstitutionRefusesDevicesAndHugeFiles) {
  std::string out;
  Status st;
  // An endless file is refused by type, before anything is read.
  st = substitute("${file:/dev/zero}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("character device"), std::string::npos) << st.message();
  const std::string huge = ::testing::TempDir() + "/secret_huge";
  {
    std::ofstream f(huge);
    f << std::string((1 << 20) + 1, 'x');
  }
  st = substitute("${file:" + huge + "}", &out);
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("larger than 1048576 bytes"), std::string::npos) << st.message();
  // A symlink an operator set up (Kubernetes secret volumes) is followed.
  const std::string target = ::testing::TempDir() + "/secret_target";
  const std::string link = ::testing::TempDir() + "/secret_link";
  {
    std::ofstream f(target);
    f << "linked\n";
  }
  std::remove(link.c_str());
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  st = substitute("${file:" + link + "}", &out);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(out, "linked");
}

TEST(SubstitutionTest, ErrorsPointAtTheValueAndNeverShowSecrets) {
  const std::string secret = ::testing::TempDir() + "/secret_num";
  {
    std::ofstream f(secret);
    f << "hunter2";
  }
  auto errs = load_errors("inputs:\n  a: {type: generate, count: \"${file:" + secret +
                          "}\"}\noutputs:\n  o: {type: null}\n");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].find("hunter2"), std::string::npos) << errs[0];
  EXPECT_NE(errs[0].find("test.yaml:2:"), std::string::npos);
}

TEST(OptionTypesTest, AmbiguousSizeIsRefusedWithBothSpellings) {
  Errors errors("t.yaml");
  auto cfg = load_config_text(
      "inputs:\n  g: {type: generate}\noutputs:\n  o:\n    type: file\n    path: /tmp/x.log\n"
      "    max_size: 100M\n",
      "t.yaml", errors);
  EXPECT_FALSE(cfg);
  ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
  EXPECT_NE(errors.all()[0].message.find(
                "\"100M\" is ambiguous: write 100MiB (powers of 1024) or 100MB (powers of 1000)"),
            std::string::npos)
      << errors.all()[0].message;
}

TEST(OptionTypesTest, SizesAndDurations) {
  uint64_t b = 0;
  EXPECT_TRUE(parse_byte_size("64MiB", &b));
  EXPECT_EQ(b, 64ull << 20);
  EXPECT_TRUE(parse_byte_size("10 kib", &b));
  EXPECT_EQ(b, 10240u);
  EXPECT_TRUE(parse_byte_size("1.5GiB", &b));
  EXPECT_EQ(b, 3ull << 29);
  // SI prefixes are powers of 1000; a bare prefix is ambiguous.
  EXPECT_TRUE(parse_byte_size("10 kb", &b));
  EXPECT_EQ(b, 10000u);
  EXPECT_TRUE(parse_byte_size("5MB", &b));
  EXPECT_EQ(b, 5000000u);
  EXPECT_TRUE(parse_byte_size("2GB", &b));
  EXPECT_EQ(b, 2000000000u);
  EXPECT_FALSE(parse_byte_size("1.5G", &b));
  EXPECT_FALSE(parse_byte_size("64M", &b));
  EXPECT_FALSE(parse_byte_size("MiB", &b));
  EXPECT_FALSE(parse_byte_size("5 parsecs", &b));
  Millis d{};
  EXPECT_TRUE(parse_duration("250ms", &d));
  EXPECT_EQ(d.count(), 250);
  EXPECT_TRUE(parse_duration("2m", &d));
  EXPECT_EQ(d.count(), 120000);
  EXPECT_TRUE(parse_duration("7d", &d));
  EXPECT_EQ(d.count(), 7 * 86400000LL);
  EXPECT_FALSE(parse_duration("soon", &d));
  EXPECT_EQ(format_byte_size(64ull << 20), "64MiB");
  EXPECT_EQ(format_duration(Millis(90000)), "90s");
}

TEST(SuggestTest, NearestWithinTypoDistance) {
  std::vector<std::string> c = {"max_size", "max_age", "path", "compress"};
  EXPECT_EQ(nearest("max_sise", c), "max_size");
  EXPECT_EQ(nearest("compres", c), "compress");
  EXPECT_EQ(nearest("pth", c), "path");
  EXPECT_EQ(nearest("completely_different", c), "");
}

}  // namespace
}  // namespace logship::config
