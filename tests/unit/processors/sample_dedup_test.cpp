// sample (1 in N per key, always keeping a condition's matches) and dedup (identical recent
// events dropped, the next kept one says how many).
#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::messages;

int64_t dropped(const std::string& processor, const std::string& reason) {
  return Metrics::global().value("logship_processor_dropped_total",
                                 "processor=\"" + processor + "\",reason=\"" + reason + "\"");
}

std::shared_ptr<SourceInfo> container(const std::string& name) {
  auto s = testing::source();
  s->tags.push_back(Tag{"container_name", ValueType::kString, name});
  return s;
}

TEST(SampleProcessor, OneInNPerKeyAlwaysKeepingErrors) {
  auto m = make("sample", "smp", "{rate: 3, always_keep: 'level >= error'}");
  auto b = batch(container("a"), {"1", "2", "3", "4", "5", "6", "7", "e"});
  b->events()[7].set("level", Value::string("ERROR"));
  b->events()[4].set("level", Value::string("fatal"));
  m->process(*b);
  // Counted events: 1 2 3 4 6 7 -> 1st and 4th kept; 5 and e kept by always_keep.
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"1", "4", "5", "e"}));
  EXPECT_EQ(dropped("smp", "sample"), 4);
  auto other = batch(container("b"), {"x", "y"});   // its own count
  m->process(*other);
  EXPECT_EQ(messages(*other), (std::vector<std::string>{"x"}));
}

TEST(DedupProcessor, DropsRecentRepeatsAndNotesThemOnTheNextEvent) {
  auto m = make("dedup", "dd", "{history: 2, window: 10s}");
  auto b = batch(testing::source(), {"a", "a", "b", "a", "b", "c", "c", "a"});
  int64_t t = 1'000'000'000;
  for (Event& e : b->events()) e.time_ns = (t += 1'000'000);
  m->process(*b);
  // history 2: after c the recent events are b, c, so the last a is new again.
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"a", "b", "c", "a"}));
  EXPECT_EQ(fields_json(b->events()[1]), R"({"repeated":1})");
  EXPECT_EQ(fields_json(b->events()[2]), R"({"repeated":2})");
  EXPECT_EQ(fields_json(b->events()[3]), R"({"repeated":1})");
  EXPECT_EQ(dropped("dd", "dedup"), 4);
}

TEST(DedupProcessor, WindowAndFieldsCount) {
  auto m = make("dedup", "dd2", "{window: 1s}");
  auto b = batch(testing::source(), {"a", "a", "a"});
  b->events()[0].time_ns = 1'000'000'000;
  b->events()[1].time_ns = 1'500'000'000;   // within 1 s: dropped
  b->events()[2].time_ns = 2'600'000'000;   // 1.6 s after the kept one: kept
  m->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"a", "a"}));
  auto c = batch(testing::source(), {"a", "a"});
  c->events()[0].time_ns = 2'700'000'000;
  c->events()[1].time_ns = 2'700'000'000;
  c->events()[1].set("k", Value::integer(1));   // different fields: not identical
  m->process(*c);
  EXPECT_EQ(c->size(), 1u);   // the first repeats the kept one (across batches)
  EXPECT_EQ(fields_json(c->events()[0]), R"({"k":1,"repeated":1})");
}

}  // namespace
}  // namespace logship
