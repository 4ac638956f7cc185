#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "daemon/registry/config_loader.h"
#include "config/option_schema.h"
#include "config/substitution.h"

namespace logship::config {
namespace {

struct ClientOpts {
  std::string host;
  std::string password;
  std::string api_key;
  std::string mode = "a";
  static const OptionSchema<ClientOpts>& schema() {
    static const auto s = OptionSchema<ClientOpts>{}
                              .add("host", &ClientOpts::host, "h")
                              .add("password", &ClientOpts::password, "p")
                              .add("api_key", &ClientOpts::api_key, "k",
                                   one_of({"only-this-one"}));
    return s;
  }
};

std::string write_file(const std::string& name, const std::string& content, mode_t mode) {
  std::string path = ::testing::TempDir() + "/" + name;
  {
    std::ofstream f(path);
    f << content << "\n";
  }
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(Secrets, SecretOptionNames) {
  for (const char* n : {"password", "sasl_password", "token", "api_key", "apikey", "secret",
                        "client_secret", "credentials", "tls.private_key", "passwd"}) {
    EXPECT_TRUE(is_secret_option_name(n)) << n;
  }
  for (const char* n : {"host", "user", "tokenizer", "max_tokens_per_s", "key_file", "path",
                        "secretary", "keys", "token_file", "password_path",
                        "secrets_dir"}) {
    EXPECT_FALSE(is_secret_option_name(n)) << n;
  }
  auto docs = ClientOpts::schema().describe();
  EXPECT_FALSE(docs[0].secret);
  EXPECT_TRUE(docs[1].secret);
  EXPECT_TRUE(docs[2].secret);
}

TEST(Secrets, EnvironmentInSecretOptionNeedsExplicitPermission) {
  ::setenv("LOGSHIP_TEST_PW", "pw-from-env", 1);
  ClientOpts o;
  Errors errors("c.yaml");
  YAML::Node n = YAML::Load("host: ${LOGSHIP_TEST_PW}\npassword: ${LOGSHIP_TEST_PW}\n");
  EXPECT_FALSE(ClientOpts::schema().bind(n, o, errors, "outputs.x"));
  ASSERT_EQ(errors.all().size(), 1u) << errors.to_string();
  EXPECT_EQ(errors.all()[0].line, 2);
  EXPECT_NE(errors.all()[0].message.find("use ${file:"), std::string::npos);
  EXPECT_EQ(o.host, "pw-from-env");   // non-secret options take the environment as before

  EnvSecretsScope allow(true);
  ClientOpts o2;
  Errors e2("c.yaml");
  EXPECT_TRUE(ClientOpts::schema().bind(n, o2, e2, "outputs.x")) << e2.to_string();
  EXPECT_EQ(o2.password, "pw-from-env");
}

TEST(Secrets, ServiceOptionAllowsEnvSecretsForTheWholeConfig) {
  // Through the loader: allow_env_secrets in `service` governs the components bound after it.
  // (No built-in plugin has a secret option yet, so check the scope the loader opens.)
  Errors errors("c.yaml");
  auto cfg = load_config_text(
      "service: {allow_env_secrets: true}\ninputs: {g: {type: generate}}\n"
      "outputs: {n: {type: 'null'}}\n",
      "c.yaml", errors);
  ASSERT_TRUE(cfg) << errors.to_string();
  EXPECT_TRUE(cfg->service.allow_env_secrets);
  Errors bad("c.yaml");
  EXPECT_FALSE(load_config_text("service: {allow_env_secrets: maybe}\n", "c.yaml", bad));
  EXPECT_NE(bad.to_string().find("'allow_env_secrets'"), std::string::npos) << bad.to_string();
}

TEST(Secrets, FileSecretValuesNeverAppearInMessages) {
  const std::string path = write_file("api_key_secret", "sk-live-0123456789", 0600);
  ClientOpts o;
  Errors errors("c.yaml");
  YAML::Node n = YAML::Load("api_key: ${file:" + path + "}\n");
  EXPECT_FALSE(ClientOpts::schema().bind(n, o, errors, "outputs.x"));
  const std::string text = errors.to_string();
  EXPECT_EQ(text.find("sk-live-0123456789"), std::string::npos) << text;
  EXPECT_NE(text.find("***"), std::string::npos) << text;
  EXPECT_EQ(mask_secrets("x sk-live-0123456789 y"), "x *** y");
}

TEST(Secrets, WarnsWhenSecretFileIsReadableByOthers) {
  const std::string shared = write_file("shared_secret", "s3cr3t-shared", 0644);
  const std::string priv = write_file("private_secret", "s3cr3t-private", 0600);
  std::string out;
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(substitute("${file:" + shared + "}", &out).is_ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "s3cr3t-shared");
  EXPECT_NE(log.find("readable by group or others"), std::string::npos) << log;
  EXPECT_NE(log.find("mode=0644"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cr3t"), std::string::npos) << log;

  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(substitute("${file:" + priv + "}", &out).is_ok());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(ListenAddress, Parses) {
  std::string h;
  uint16_t p = 1;
  EXPECT_TRUE(parse_listen_address("127.0.0.1:2021", &h, &p));
  EXPECT_EQ(h, "127.0.0.1");
  EXPECT_EQ(p, 2021);
  EXPECT_TRUE(parse_listen_address("[::1]:0", &h, &p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 0);
  for (const char* bad : {"", "2021", ":2021", "host:", "h:65536", "::1:80", "[::1]80", "h:x"}) {
    EXPECT_FALSE(parse_listen_address(bad, &h, &p)) << bad;
  }
  Errors errors("c.yaml");
  EXPECT_FALSE(load_config_text("service:\n  http_listen: localhost\n", "c.yaml", errors));
  EXPECT_NE(errors.to_string().find("c.yaml:2:16: service: 'http_listen': expected host:port"),
            std::string::npos)
      << errors.to_string();
}

}  // namespace
}  // namespace logship::config
