// filter and modify through their real plugin binding: exact surviving events and fields,
// counted drops, validation errors.
#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::messages;
using testing::source;

int64_t dropped(const std::string& processor, const std::string& reason) {
  return Metrics::global().value("logship_processor_dropped_total",
                                 "processor=\"" + processor + "\",reason=\"" + reason + "\"");
}

TEST(FilterProcessor, DropIfRemovesMatchesAndCountsThem) {
  auto f = make("filter", "no_health", "{drop_if: 'message contains \"/health\"'}");
  auto b = batch(source(), {"GET /health", "GET /api", "GET /healthz", "POST /api"});
  f->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"GET /api", "POST /api"}));
  EXPECT_EQ(dropped("no_health", "drop_if"), 2);
}

TEST(FilterProcessor, KeepIfKeepsOnlyMatches) {
  auto f = make("filter", "errors_only", "{keep_if: 'level >= error or stream == \"stderr\"'}");
  auto b = batch(source(), {"a", "b", "c"});
  b->events()[0].set("level", Value::string("ERROR"));
  b->events()[1].set("level", Value::string("info"));
  b->events()[2].set("level", Value::string("debug"));
  b->events()[2].stream = Stream::kStderr;
  f->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(dropped("errors_only", "keep_if"), 1);
}

TEST(FilterProcessor, LabelsOfTheSourceSelect) {
  auto f = make("filter", "payments", "{keep_if: 'label(\"team\") == \"payments\"'}");
  auto kept = batch(source({{"team", "payments"}}), {"x", "y"});
  f->process(*kept);
  EXPECT_EQ(kept->size(), 2u);
  auto gone = batch(source({{"team", "search"}}), {"x", "y"});
  f->process(*gone);
  EXPECT_EQ(gone->size(), 0u);
}

TEST(FilterProcessor, OptionsAreValidated) {
  std::string err;
  EXPECT_FALSE(testing::bind("filter", "f", "{}", &err));
  EXPECT_EQ(err, "processors.f (filter): give exactly one of keep_if, drop_if");
  EXPECT_FALSE(testing::bind("filter", "f", "{keep_if: 'a == 1', drop_if: 'b == 2'}", &err));
  EXPECT_FALSE(testing::bind("filter", "f", "{drop_if: 'level >= '}", &err));
  EXPECT_EQ(err,
            "processors.f (filter): 'drop_if': condition \"level >= \": column 10: expected a "
            "value after '>='");
  EXPECT_FALSE(testing::bind("filter", "f", "{drop_if: 'message matches \"[\"'}", &err));
  EXPECT_NE(err.find("column 17: invalid regular expression (RE2)"), std::string::npos) << err;
}

TEST(ModifyProcessor, EveryOperationInItsOrder) {
  auto m = make("modify", "shape", R"({
      rename: {lvl: level},
      copy: {level: severity},
      set: {env: prod, where: "{container_name}/{stream}"},
      add: {team: unknown, level: never},
      convert: {status: int, ratio: float, ok: bool, code: string},
      lowercase: [level],
      uppercase: [severity],
      truncate: {note: "5"},
      truncate_marker: "~",
      remove: [secret]})");
  auto src = source();
  src->tags.push_back(Tag{"container_name", ValueType::kString, "api"});
  auto b = batch(src, {"hello"});
  Event& e = b->events()[0];
  e.set("lvl", Value::string("WARN"));
  e.set("status", Value::string("503"));
  e.set("ratio", Value::integer(2));
  e.set("ok", Value::string("true"));
  e.set("code", Value::integer(7));
  e.set("note", Value::string("héllo world"));
  e.set("secret", Value::string("s3cr3t"));
  m->process(*b);
  EXPECT_EQ(fields_json(e),
            R"({"level":"warn","status":503,"ratio":2,"ok":true,"code":"7","note":"héll~",)"
            R"("severity":"WARN","env":"prod","where":"api/stdout","team":"unknown"})");
  EXPECT_EQ(e.find("ratio")->value.type, ValueType::kDouble);
  EXPECT_EQ(e.message, "hello");
}

TEST(ModifyProcessor, MessageIsAField) {
  auto m = make("modify", "msg", R"({copy: {message: original}, set: {message: "[{level}] x"},
                                     truncate: {original: "3"}})");
  auto b = batch(source(), {"abcdef"});
  b->events()[0].set("level", Value::string("info"));
  m->process(*b);
  EXPECT_EQ(b->events()[0].message, "[info] x");
  EXPECT_EQ(fields_json(b->events()[0]), R"({"level":"info","original":"abc..."})");
}

TEST(ModifyProcessor, FailedConversionsKeepTheValueAndAreCounted) {
  auto m = make("modify", "conv", "{convert: {status: int}}");
  auto b = batch(source(), {"a", "b"});
  b->events()[0].set("status", Value::string("n/a"));
  b->events()[1].set("status", Value::real(4.0));
  m->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]), R"({"status":"n/a"})");
  EXPECT_EQ(fields_json(b->events()[1]), R"({"status":4})");
  EXPECT_EQ(testing::metric("logship_modify_convert_failed_total", "conv"), 1);
}

TEST(ModifyProcessor, OptionsAreValidated) {
  std::string err;
  EXPECT_FALSE(testing::bind("modify", "m", "{}", &err));
  EXPECT_NE(err.find("no operation"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("modify", "m", "{convert: {a: date}}", &err));
  EXPECT_EQ(err,
            "processors.m (modify): convert.a: expected int, float, bool or string, got \"date\"");
  EXPECT_FALSE(testing::bind("modify", "m", "{truncate: {a: \"0\"}}", &err));
  EXPECT_FALSE(testing::bind("modify", "m", "{remove: [message]}", &err));
  EXPECT_FALSE(testing::bind("modify", "m", "{rename: {message: x}}", &err));
}

}  // namespace
}  // namespace logship
