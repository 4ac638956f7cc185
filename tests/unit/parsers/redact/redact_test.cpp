#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "daemon/registry/plugin.h"
#include "daemon/runtime/metrics.h"
#include "parsers/redact/redact.h"

namespace logship::redact {
namespace {

std::shared_ptr<const RuleSet> rules(std::vector<std::string> builtins,
                                     std::map<std::string, std::string> custom = {},
                                     std::string marker = "[REDACTED:{rule}]") {
  auto s = std::make_shared<RuleSet>();
  const Status st = s->build(builtins, custom, marker, "scrub");
  EXPECT_TRUE(st.is_ok()) << st.message();
  return s;
}

std::string run(Redactor& r, std::string_view text) {
  std::string_view out;
  return r.apply(text, &out) ? std::string(out) : std::string(text);
}

struct Case {
  const char* rule;
  const char* in;
  const char* out;   // same as `in` for negatives
};

const Case kCases[] = {
    // url_password: only the password goes; scheme, user and host stay.
    {"url_password", "connecting to postgres://app:s3cr3t!@db:5432/orders",
     "connecting to postgres://app:[REDACTED:url_password]@db:5432/orders"},
    {"url_password", "proxy=https://bob:hunter2@proxy.corp:3128 ok",
     "proxy=https://bob:[REDACTED:url_password]@proxy.corp:3128 ok"},
    {"url_password", "url=https://api.example.com:8443/v2/items", nullptr},
    {"url_password", "clone https://git@github.com/org/repo.git", nullptr},
    {"url_password", "user:pass@host without a scheme", nullptr},
    // bearer
    {"bearer", "Authorization: Bearer abcDEF123456._-~+/xyz==",
     "Authorization: Bearer [REDACTED:bearer]"},
    {"bearer", "auth=bearer 0123456789abcdef end", "auth=bearer [REDACTED:bearer] end"},
    {"bearer", "bearer token expired", nullptr},
    {"bearer", "the bearer of bad news", nullptr},
    // aws_access_key
    {"aws_access_key", "key=AKIAIOSFODNN7EXAMPLE region=us-east-1",
     "key=[REDACTED:aws_access_key] region=us-east-1"},
    {"aws_access_key", "ASIAY34FZKBOKMUTVV7A,", "[REDACTED:aws_access_key],"},
    {"aws_access_key", "AKIAIOSFODNN7EXAMPL (19 chars)", nullptr},
    {"aws_access_key", "XAKIAIOSFODNN7EXAMPLE", nullptr},
    {"aws_access_key", "akiaiosfodnn7example", nullptr},
    // jwt
    {"jwt",
     "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
     "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U rest",
     "token=[REDACTED:jwt] rest"},
    {"jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. (alg none)", "[REDACTED:jwt] (alg none)"},
    {"jwt", "eyJhbGci.notjwt.abc", nullptr},
    {"jwt", "a.b.c version 1.2.3", nullptr},
    // credit_card: issuer prefix + Luhn
    {"credit_card", "card 4111 1111 1111 1111 charged", "card [REDACTED:credit_card] charged"},
    {"credit_card", "pan=5500-0000-0000-0004;", "pan=[REDACTED:credit_card];"},
    {"credit_card", "amex 378282246310005 ok", "amex [REDACTED:credit_card] ok"},
    {"credit_card", "disc 6011111111111117", "disc [REDACTED:credit_card]"},
    {"credit_card", "card 4111 1111 1111 1112 (bad check digit)", nullptr},
    {"credit_card", "order 1732356003123 at 1732356003", nullptr},       // epoch ms
    {"credit_card", "id 7111111111111111 unknown issuer", nullptr},
    {"credit_card", "short 4111111111", nullptr},
};

TEST(Redact, EveryBuiltinOnPositiveAndNegativeSamples) {
  for (const Case& c : kCases) {
    auto set = rules({c.rule});
    Redactor r(set);
    const std::string expected = c.out ? c.out : c.in;
    EXPECT_EQ(run(r, c.in), expected) << c.rule << ": " << c.in;
  }
  // Every built-in has at least one positive and one negative sample.
  for (const auto& name : RuleSet::builtin_names()) {
    int pos = 0, neg = 0;
    for (const Case& c : kCases) {
      if (name == c.rule) (c.out ? pos : neg)++;
    }
    EXPECT_GT(pos, 0) << name;
    EXPECT_GT(neg, 0) << name;
  }
}

TEST(Redact, AllBuiltinsTogetherOnOneLine) {
  Redactor r(rules(RuleSet::builtin_names()));
  EXPECT_EQ(run(r, "u=https://a:pw12@h k=AKIAIOSFODNN7EXAMPLE c=4111111111111111 "
                   "Authorization: Bearer 0123456789abcdef"),
            "u=https://a:[REDACTED:url_password]@h k=[REDACTED:aws_access_key] "
            "c=[REDACTED:credit_card] Authorization: Bearer [REDACTED:bearer]");
}

TEST(Redact, NoFalsePositivesOnOrdinaryLogLines) {
  Redactor r(rules(RuleSet::builtin_names()));
  std::ifstream f(std::string(LOGSHIP_TESTDATA) + "/redact/ordinary.log");
  ASSERT_TRUE(f);
  std::string line;
  int lines = 0;
  while (std::getline(f, line)) {
    ++lines;
    std::string_view out;
    EXPECT_FALSE(r.apply(line, &out)) << line << "\n -> " << out;
  }
  EXPECT_GE(lines, 30);
}

TEST(Redact, CustomRulesMarkerAndCounts) {
  auto set = rules({"jwt"}, {{"email", R"([a-z0-9.]+@[a-z0-9.]+\.[a-z]+)"},
                             {"session", R"(session=([0-9a-f]{8}))"}},
                   "<{rule}>");
  Redactor r(set);
  auto& email = Metrics::global().counter("logship_redactions_total",
                                         "processor=\"scrub\",rule=\"email\"");
  auto& session = Metrics::global().counter("logship_redactions_total",
                                           "processor=\"scrub\",rule=\"session\"");
  const uint64_t e0 = email.load(), s0 = session.load();
  EXPECT_EQ(run(r, "to a.b@x.org and c@y.io session=deadbeef!"),
            "to <email> and <email> session=<session>!");
  EXPECT_EQ(email.load() - e0, 2u);
  EXPECT_EQ(session.load() - s0, 1u);
  EXPECT_EQ(run(r, "nothing here"), "nothing here");
  EXPECT_EQ(email.load() - e0, 2u);
}

TEST(Redact, UnchangedTextIsNotCopied) {
  Redactor r(rules(RuleSet::builtin_names()));
  std::string_view out = "untouched";
  const std::string text = "GET /index.html 200 4111";
  EXPECT_FALSE(r.apply(text, &out));
  EXPECT_EQ(out, "untouched");
}

TEST(Redact, InvalidConfigsAreRejected) {
  RuleSet a;
  EXPECT_NE(a.build({"jwtt"}, {}, "x", "p").message().find("did you mean 'jwt'"), std::string::npos);
  RuleSet b;
  EXPECT_NE(b.build({}, {{"bad", "(unclosed"}}, "x", "p").message().find("rules.bad: invalid RE2"),
            std::string::npos);
  RuleSet c;
  EXPECT_NE(c.build({"jwt"}, {{"jwt", "x"}}, "x", "p").message().find("built-in"), std::string::npos);
}

TEST(Redact, ProcessorRedactsMessageAndChosenFields) {
  const PluginInfo* p = find_plugin(PluginKind::kProcessor, "redact");
  ASSERT_NE(p, nullptr);
  config::Errors errors;
  YAML::Node node = YAML::Load("{type: redact, fields: [message, auth], builtins: [bearer]}");
  ProcessorMaker make = p->bind_processor(node, errors, {PluginKind::kProcessor, "r", "redact"});
  ASSERT_TRUE(make) << errors.to_string();
  auto proc = make();
  auto src = std::make_shared<SourceInfo>();
  Batch b(src);
  Event& e1 = b.add_event();
  e1.message = "call with Bearer abcdefgh12345678";
  e1.set("auth", Value::string("Bearer zzzzzzzzzzzz"));
  e1.set("other", Value::string("Bearer yyyyyyyyyyyy"));
  Event& e2 = b.add_event();
  e2.message = "plain line";
  const char* plain = e2.message.data();
  proc->process(b);
  EXPECT_EQ(b.events()[0].message, "call with Bearer [REDACTED:bearer]");
  EXPECT_EQ(b.events()[0].find("auth")->value.s, "Bearer [REDACTED:bearer]");
  EXPECT_EQ(b.events()[0].find("other")->value.s, "Bearer yyyyyyyyyyyy");
  EXPECT_EQ(b.events()[1].message.data(), plain);

  config::Errors bad;
  EXPECT_FALSE(p->bind_processor(YAML::Load("{type: redact, rules: {x: '(('}}"), bad, {PluginKind::kProcessor, "r", "redact"}));
  EXPECT_NE(bad.to_string().find("invalid RE2 pattern"), std::string::npos) << bad.to_string();
}

}  // namespace
}  // namespace logship::redact
