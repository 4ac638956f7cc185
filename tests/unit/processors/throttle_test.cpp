// throttle: a token bucket per key; a noisy key is cut to its burst, a quiet key is untouched.
#include <gtest/gtest.h>

#include <thread>

#include "tests/unit/parsers/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::make;
using testing::messages;

std::shared_ptr<SourceInfo> container(const std::string& name) {
  auto s = testing::source();
  s->key = name;
  s->tags.push_back(Tag{"container_name", ValueType::kString, name});
  return s;
}

int64_t throttled(const std::string& processor) {
  return Metrics::global().value("logship_processor_dropped_total",
                                 "processor=\"" + processor + "\",reason=\"throttle\"");
}

TEST(ThrottleProcessor, NoisyKeyIsCutToItsBurstQuietKeyPasses) {
  auto maker = testing::bind("throttle", "thr", "{rate: 0.001, burst: 3}");
  ASSERT_TRUE(maker);
  auto noisy_p = maker();
  auto quiet_p = maker();   // another stream of the same processor
  auto noisy = batch(container("noisy"), {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"});
  auto quiet = batch(container("quiet"), {"a", "b", "c"});
  noisy_p->process(*noisy);
  quiet_p->process(*quiet);
  EXPECT_EQ(messages(*noisy), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(messages(*quiet), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(throttled("thr"), 7);
}

TEST(ThrottleProcessor, KeyFromAFieldAndRefill) {
  auto m = make("throttle", "thr_level", "{rate: 100, burst: 1, key: '{level}'}");
  auto b = batch(container("c"), {"e1", "e2", "i1", "i2"});
  b->events()[0].set("level", Value::string("error"));
  b->events()[1].set("level", Value::string("error"));
  b->events()[2].set("level", Value::string("info"));
  b->events()[3].set("level", Value::string("info"));
  m->process(*b);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"e1", "i1"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));   // 100/s: refilled
  auto again = batch(container("c"), {"e3"});
  again->events()[0].set("level", Value::string("error"));
  m->process(*again);
  EXPECT_EQ(messages(*again), (std::vector<std::string>{"e3"}));
}

TEST(ThrottleProcessor, OptionsAreValidated) {
  std::string err;
  EXPECT_FALSE(testing::bind("throttle", "t", "{}", &err));
  EXPECT_EQ(err, "processors.t (throttle): missing required option 'rate'");
  EXPECT_FALSE(testing::bind("throttle", "t", "{rate: 0}", &err));
  EXPECT_FALSE(testing::bind("throttle", "t", "{rate: 1, mode: delay}", &err));
}

}  // namespace
}  // namespace logship
