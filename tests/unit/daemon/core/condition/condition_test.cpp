// The condition language: every operator and type rule, level ordering, nested paths, and
// compile errors with their column.
#include <gtest/gtest.h>

#include "daemon/core/condition/condition.h"
#include "daemon/core/condition/log_level.h"

namespace logship::condition {
namespace {

class ConditionTest : public ::testing::Test {
 protected:
  ConditionTest() : batch(make_source()) {
    e = &batch.add_event();
    e->message = batch.copy("GET /healthz 200");
    e->stream = Stream::kStderr;
    e->set("level", Value::string("WARNING"));
    e->set("status", Value::integer(503));
    e->set("latency", Value::string("250ms"));
    e->set("code", Value::string("42"));
    e->set("ok", Value::boolean(false));
    e->set("ratio", Value::real(0.5));
    e->set("sev", Value::integer(3));
    e->set("http", Value::raw_json(R"({"status": 502, "path": "/api/v1", "h": {"ua": "a\"b"}})"));
    e->set("user.name", Value::string("ann"));
  }
  static std::shared_ptr<const SourceInfo> make_source() {
    auto s = std::make_shared<SourceInfo>();
    s->input = "docker";
    s->key = "k";
    s->tags.push_back(Tag{"container_name", ValueType::kString, "api-1"});
    s->labels = {{"com.docker.compose.service", "api"}, {"team", "payments"}};
    return s;
  }
  bool eval(const std::string& text) {
    CompileError err;
    auto c = Condition::compile(text, &err);
    EXPECT_NE(c, nullptr) << text << ": " << err.to_string();
    return c && c->matches(*e, batch.source());
  }
  std::string error(const std::string& text) {
    CompileError err;
    auto c = Condition::compile(text, &err);
    EXPECT_EQ(c, nullptr) << text;
    return err.to_string();
  }
  Batch batch;
  Event* e;
};

TEST_F(ConditionTest, NumbersCompareWithEveryOperator) {
  EXPECT_TRUE(eval("status == 503"));
  EXPECT_FALSE(eval("status != 503"));
  EXPECT_TRUE(eval("status >= 500"));
  EXPECT_TRUE(eval("status > 502"));
  EXPECT_FALSE(eval("status > 503"));
  EXPECT_TRUE(eval("status <= 503"));
  EXPECT_FALSE(eval("status < 503"));
  EXPECT_TRUE(eval("ratio < 0.75"));
  EXPECT_TRUE(eval("code == 42"));         // numeric text compares as a number
  EXPECT_TRUE(eval("code > 41.5"));
  EXPECT_TRUE(eval("status >= -1e3"));
}

TEST_F(ConditionTest, StringsCompareExactlyAndLexically) {
  EXPECT_TRUE(eval("user.name == \"ann\""));
  EXPECT_TRUE(eval("user.name < 'bob'"));
  EXPECT_FALSE(eval("user.name == \"Ann\""));
  EXPECT_TRUE(eval("status == \"503\""));   // numbers read as their JSON text for strings
  EXPECT_TRUE(eval("message starts_with \"GET \""));
  EXPECT_TRUE(eval("message contains \"healthz\""));
  EXPECT_FALSE(eval("message contains \"HEALTHZ\""));
  EXPECT_TRUE(eval("message matches \"^GET /health\\\\w+ 2\\\\d\\\\d$\""));
  EXPECT_TRUE(eval("message matches '(?i)HEALTHZ'"));
  EXPECT_TRUE(eval("status matches \"^5\""));
}

TEST_F(ConditionTest, BooleansAndDurations) {
  EXPECT_TRUE(eval("ok == false"));
  EXPECT_TRUE(eval("ok != true"));
  EXPECT_TRUE(eval("latency > 200ms"));
  EXPECT_TRUE(eval("latency < 1s"));
  EXPECT_TRUE(eval("latency == 0.25s"));
  EXPECT_TRUE(eval("ratio < 1m"));   // a plain number is seconds
}

TEST_F(ConditionTest, LevelsOrderAcrossSpellings) {
  EXPECT_TRUE(eval("level >= warn"));
  EXPECT_TRUE(eval("level == warn"));
  EXPECT_FALSE(eval("level >= error"));
  EXPECT_TRUE(eval("level > info"));
  EXPECT_TRUE(eval("sev >= error"));   // syslog severity 3 = err
  EXPECT_FALSE(eval("sev >= critical"));
  EXPECT_TRUE(eval("level in [warn, error]"));
  using L = LevelRank;
  EXPECT_EQ(level_rank("WARN"), L::kWarn);
  EXPECT_EQ(level_rank("warning"), L::kWarn);
  EXPECT_EQ(level_rank("W"), L::kWarn);
  EXPECT_EQ(level_rank("4"), L::kWarn);
  EXPECT_EQ(level_rank("err"), L::kError);
  EXPECT_EQ(level_rank("E"), L::kError);
  EXPECT_EQ(level_rank("3"), L::kError);
  EXPECT_EQ(level_rank("Fatal"), L::kCritical);
  EXPECT_EQ(level_rank("critical"), L::kCritical);
  EXPECT_EQ(level_rank("crit"), L::kCritical);
  EXPECT_EQ(level_rank("2"), L::kCritical);
  EXPECT_EQ(level_rank("0"), L::kEmergency);
  EXPECT_EQ(level_rank("info"), L::kInfo);
  EXPECT_EQ(level_rank("I"), L::kInfo);
  EXPECT_EQ(level_rank("6"), L::kInfo);
  EXPECT_EQ(level_rank("debug"), L::kDebug);
  EXPECT_EQ(level_rank("D"), L::kDebug);
  EXPECT_EQ(level_rank("7"), L::kDebug);
  EXPECT_EQ(level_rank("trace"), L::kTrace);
  EXPECT_EQ(level_rank("8"), std::nullopt);
  EXPECT_EQ(level_rank("verbose"), std::nullopt);
  EXPECT_LT(L::kTrace, L::kDebug);
  EXPECT_LT(L::kDebug, L::kInfo);
  EXPECT_LT(L::kInfo, L::kWarn);
  EXPECT_LT(L::kWarn, L::kError);
  EXPECT_LT(L::kError, L::kCritical);
}

TEST_F(ConditionTest, NestedPathsReadJsonObjects) {
  EXPECT_TRUE(eval("http.status >= 500"));
  EXPECT_TRUE(eval("http.path starts_with \"/api\""));
  EXPECT_TRUE(eval("http.h.ua == 'a\"b'"));   // escapes decoded
  EXPECT_FALSE(eval("http.missing exists"));
  EXPECT_TRUE(eval("http exists"));
  EXPECT_TRUE(eval("field(\"user.name\") == \"ann\""));
}

TEST_F(ConditionTest, SourceTests) {
  EXPECT_TRUE(eval("label(\"com.docker.compose.service\") == \"api\""));
  EXPECT_FALSE(eval("label(\"nope\") exists"));
  EXPECT_TRUE(eval("label(\"nope\") != \"x\""));
  EXPECT_TRUE(eval("stream == \"stderr\""));
  EXPECT_FALSE(eval("stream == \"stdout\""));
  EXPECT_TRUE(eval("input == \"docker\""));
  EXPECT_TRUE(eval("container_name == \"api-1\""));   // source tags read like fields
  EXPECT_TRUE(eval("input in [\"file\", \"docker\"]"));
}

TEST_F(ConditionTest, MissingValuesAndTypeMismatches) {
  EXPECT_FALSE(eval("nope == 1"));
  EXPECT_TRUE(eval("nope != 1"));
  EXPECT_FALSE(eval("nope < 1"));
  EXPECT_FALSE(eval("nope exists"));
  EXPECT_TRUE(eval("nope not exists"));
  EXPECT_FALSE(eval("user.name > 3"));   // "ann" is no number
  EXPECT_FALSE(eval("ok > 1"));
  EXPECT_FALSE(eval("nope in [1, 2]"));
  EXPECT_TRUE(eval("status not in [200, 204]"));
}

TEST_F(ConditionTest, LogicAndPrecedence) {
  EXPECT_TRUE(eval("status == 1 or status == 503 and ok == false"));
  EXPECT_FALSE(eval("(status == 1 or status == 503) and ok == true"));
  EXPECT_TRUE(eval("not status == 1"));
  EXPECT_TRUE(eval("!(status == 1) && (ok == false || ok == true)"));
  EXPECT_FALSE(eval("not not status == 1"));
  EXPECT_TRUE(eval("message not contains \"error\""));
  EXPECT_FALSE(eval("message not matches \"health\""));
}

TEST_F(ConditionTest, ErrorsGiveTheColumn) {
  EXPECT_EQ(error(""), "column 1: empty condition");
  EXPECT_EQ(error("status >= "), "column 11: expected a value after '>='");
  EXPECT_EQ(error("status = 5"), "column 8: '=' is not an operator; compare with '=='");
  EXPECT_EQ(error("level >= bogus"),
            "column 10: unknown value 'bogus': quote strings (\"bogus\"); unquoted words are "
            "levels (trace, debug, info, notice, warn, error, fatal, ...)");
  EXPECT_EQ(error("(a == 1"), "column 8: expected ')' to close the '(' at column 1");
  EXPECT_EQ(error("a == 1 b == 2"), "column 8: unexpected 'b'; join tests with 'and' or 'or'");
  EXPECT_EQ(error("ok < true"), "column 6: booleans compare only with == and !=");
  EXPECT_EQ(error("stream == \"err\""), "column 11: stream is \"stdout\" or \"stderr\"");
  EXPECT_EQ(error("label(\"a\") == 5"),
            "column 15: a is a string; compare it with a quoted string, not a number");
  EXPECT_EQ(error("a in [1, \"x\"]"), "column 10: the list mixes a number and a string");
  EXPECT_EQ(error("a == 5parsecs"),
            "column 6: '5parsecs' is neither a number nor a duration (250ms, 1.5s, 2m, 1h)");
  EXPECT_EQ(error("message == \"x"), "column 12: unterminated string");
  EXPECT_EQ(error("a ~ 1"), "column 3: unexpected character '~'");
  EXPECT_EQ(error("status"),
            "column 7: expected an operator after 'status' (==, !=, <, <=, >, >=, matches, in, "
            "exists, starts_with, contains)");
  EXPECT_EQ(error("and == 1"),
            "column 1: expected a field, label(\"...\"), field(\"...\"), message, stream or "
            "input; got 'and'");
}

TEST_F(ConditionTest, MalformedRegexIsRejectedAtCompile) {
  std::string e = error("message matches \"(unclosed\"");
  EXPECT_EQ(e.rfind("column 17: invalid regular expression (RE2): ", 0), 0u) << e;
  EXPECT_EQ(error("message matches 5"), "column 17: 'matches' takes a quoted string");
}

TEST_F(ConditionTest, HostileInputIsBounded) {
  EXPECT_EQ(error(std::string(200, '(') + "a == 1" + std::string(200, ')')),
            "column 65: nested too deeply");
  EXPECT_EQ(error(std::string(5000, ' ')), "column 4097: condition longer than 4096 characters");
}

TEST(ConditionDuration, Parses) {
  EXPECT_EQ(parse_duration_seconds("250ms"), 0.25);
  EXPECT_EQ(parse_duration_seconds("2m"), 120);
  EXPECT_EQ(parse_duration_seconds("1h"), 3600);
  EXPECT_EQ(parse_duration_seconds("10"), std::nullopt);
  EXPECT_EQ(parse_duration_seconds("5x"), std::nullopt);
}

}  // namespace
}  // namespace logship::condition
