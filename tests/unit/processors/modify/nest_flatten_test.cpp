// modify's flatten and nest through the real plugin binding: every option, collisions, the depth
// limit and fields that hold no object, byte-exact.
#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::source;

int64_t collisions(const std::string& p) {
  return testing::metric("logship_modify_collisions_total", p);
}
int64_t not_object(const std::string& p) {
  return testing::metric("logship_modify_not_object_total", p);
}

// One event with `fields` (key, raw JSON text of the value) run through `m`; its fields as JSON.
std::string run(testing::Made& m, std::vector<std::pair<std::string, std::string>> fields) {
  auto b = batch(source(), {"msg"});
  Event& e = b->events()[0];
  for (const auto& [k, v] : fields) {
    Value val;
    if (v.front() == '{' || v.front() == '[') val = Value::raw_json(b->copy(v));
    else if (v.front() == '"') val = Value::string(b->copy(v.substr(1, v.size() - 2)));
    else val = Value::integer(std::stoll(v));
    e.fields.push_back(Field{b->copy(k), val});
  }
  m->process(*b);
  EXPECT_EQ(e.message, "msg");
  return fields_json(e);
}

TEST(ModifyFlatten, EveryLevelWithTheFieldsNameInPlace) {
  auto m = make("modify", "fl_all", "{flatten: {fields: [k8s]}}");
  EXPECT_EQ(run(m, {{"a", "1"},
                    {"k8s", R"({"pod":{"name":"p-1","uid":"u"},"ns":"web","tags":["x",{"y":1}],)"
                            R"("empty":{},"n":null,"ok":true,"r":1.5,"esc":"a\"b\n"})"},
                    {"z", "2"}}),
            R"({"a":1,"k8s.pod.name":"p-1","k8s.pod.uid":"u","k8s.ns":"web",)"
            R"("k8s.tags":["x",{"y":1}],"k8s.n":null,"k8s.ok":true,"k8s.r":1.5,)"
            R"("k8s.esc":"a\"b\n","z":2})");
  EXPECT_EQ(collisions("fl_all"), 0);
}

TEST(ModifyFlatten, SeparatorDepthLimitAndLiftWithPrefix) {
  auto under = make("modify", "fl_sep", R"({flatten: {fields: [a], separator: "_", max_depth: 1}})");
  EXPECT_EQ(run(under, {{"a", R"({"b":{"c":{"d":1}},"e":2})"}}),
            R"({"a_b":{"c":{"d":1}},"a_e":2})");
  auto two = make("modify", "fl_two", R"({flatten: {fields: [a], separator: "_", max_depth: 2}})");
  EXPECT_EQ(run(two, {{"a", R"({"b":{"c":{"d":1}},"e":2})"}}), R"({"a_b_c":{"d":1},"a_e":2})");
  // Fluent Bit's lift: the members' own names, Add_prefix before them.
  auto lift = make("modify", "fl_lift",
                   R"({flatten: {fields: [kube, meta], keep_name: false, add_prefix: "k_", max_depth: 1}})");
  EXPECT_EQ(run(lift, {{"kube", R"({"pod":"p","labels":{"app":"x"}})"}, {"meta", R"({"n":1})"}}),
            R"({"k_pod":"p","k_labels":{"app":"x"},"k_n":1})");
}

TEST(ModifyFlatten, NewNamesReplaceExistingFieldsAndTheLaterMemberWins) {
  auto m = make("modify", "fl_coll", "{flatten: {fields: [a]}}");
  EXPECT_EQ(run(m, {{"a.x", "\"old\""}, {"a", R"({"x":1,"y":{"z":2},"y.z":3})"}, {"q", "4"}}),
            R"({"a.x":1,"a.y.z":3,"q":4})");
  EXPECT_EQ(collisions("fl_coll"), 2);   // a.x over the field, y.z over y: {z}
}

TEST(ModifyFlatten, FieldsWithoutAnObjectAreLeftAndCounted) {
  auto m = make("modify", "fl_not", "{flatten: {fields: [a]}}");
  EXPECT_EQ(run(m, {{"a", "\"text\""}}), R"({"a":"text"})");
  EXPECT_EQ(run(m, {{"a", "[1,2]"}}), R"({"a":[1,2]})");
  EXPECT_EQ(run(m, {{"a", "7"}}), R"({"a":7})");
  EXPECT_EQ(run(m, {{"a", R"({"b":1,)"}}), R"({"a":{"b":1,})");            // invalid JSON
  EXPECT_EQ(run(m, {{"a", R"({"b":1} {"c":2})"}}), R"({"a":{"b":1} {"c":2}})");   // trailing
  EXPECT_EQ(run(m, {{"b", "1"}}), R"({"b":1})");                          // absent: no count
  EXPECT_EQ(not_object("fl_not"), 5);
}

TEST(ModifyNest, ListedAndPrefixedFieldsMoveUnderOneObject) {
  auto m = make("modify", "ne_basic",
                R"({nest: {under: http, fields: [method, "http_*"], remove_prefix: "http_"}})");
  EXPECT_EQ(run(m, {{"method", "\"GET\""}, {"level", "\"info\""}, {"http_status", "200"},
                    {"http_path", "\"/a\"b\""}, {"http_", "1"}}),
            R"({"level":"info","http":{"method":"GET","status":200,"path":"/a\"b","http_":1}})");
  EXPECT_EQ(run(m, {{"level", "\"info\""}}), R"({"level":"info"})");   // nothing to move
  EXPECT_EQ(collisions("ne_basic"), 0);
}

TEST(ModifyNest, EveryFieldAndMergeIntoAnExistingObject) {
  auto all = make("modify", "ne_all", R"({nest: {under: app, fields: ["*"]}})");
  EXPECT_EQ(run(all, {{"a", "1"}, {"app", R"({"a":0,"keep":[1, 2]})"}, {"b", R"({"c":2})"}}),
            R"({"app":{"keep":[1, 2],"a":1,"b":{"c":2}}})");
  EXPECT_EQ(collisions("ne_all"), 1);   // app.a replaced by the field a
}

TEST(ModifyNest, LaterFieldWinsAndANonObjectTargetIsLeftAlone) {
  auto m = make("modify", "ne_coll",
                R"({nest: {under: http, fields: [status, "http_*"], remove_prefix: "http_"}})");
  EXPECT_EQ(run(m, {{"status", "1"}, {"http_status", "2"}}), R"({"http":{"status":2}})");
  EXPECT_EQ(collisions("ne_coll"), 1);
  EXPECT_EQ(run(m, {{"http", "\"GET /\""}, {"status", "1"}}), R"({"http":"GET /","status":1})");
  EXPECT_EQ(run(m, {{"http", R"({"x":)"}, {"status", "1"}}), R"({"http":{"x":,"status":1})");
  EXPECT_EQ(collisions("ne_coll"), 3);
}

TEST(ModifyNestFlatten, RunLastAndFirstAroundTheOtherOperations) {
  auto m = make("modify", "ne_order",
                R"({flatten: {fields: [k]}, rename: {k.a: a}, set: {env: prod},
                    nest: {under: meta, fields: [env, a]}})");
  EXPECT_EQ(run(m, {{"k", R"({"a":1,"b":2})"}}), R"({"k.b":2,"meta":{"a":1,"env":"prod"}})");
}

TEST(ModifyNestFlatten, OptionsAreValidated) {
  std::string err;
  EXPECT_FALSE(testing::bind("modify", "m", "{nest: {under: x}}", &err));
  EXPECT_EQ(err, "processors.m (modify): nest: give both under and fields");
  EXPECT_FALSE(testing::bind("modify", "m", "{nest: {fields: [a]}}", &err));
  EXPECT_FALSE(testing::bind("modify", "m", "{nest: {under: message, fields: [a]}}", &err));
  EXPECT_FALSE(testing::bind("modify", "m", "{flatten: {separator: _}}", &err));
  EXPECT_EQ(err, "processors.m (modify): flatten: give the fields to flatten");
  EXPECT_FALSE(testing::bind("modify", "m", "{flatten: {fields: [a], max_depth: -1}}", &err));
  EXPECT_FALSE(testing::bind("modify", "m", "{flatten: {fields: [a], depth: 1}}", &err));
  EXPECT_NE(err.find("unknown option 'depth'"), std::string::npos) << err;
}

}  // namespace
}  // namespace logship
