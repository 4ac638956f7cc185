#include "daemon/runtime/tap_hub.h"

#include <gtest/gtest.h>

#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

std::shared_ptr<SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "containers";
  s->key = "k";
  s->tags.push_back(Tag{"container_name", ValueType::kString, "api"});
  return s;
}

BatchPtr batch_of(int n, const std::string& level_of_odd = "error") {
  auto b = std::make_unique<Batch>(source());
  for (int i = 0; i < n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1'700'000'000'000'000'000 + i;
    e.stream = Stream::kStdout;
    e.message = b->copy("m" + std::to_string(i));
    // Into the arena: an event's values are views, and the level chosen here is a temporary.
    e.set("level", Value::string(b->copy(i % 2 ? level_of_odd : std::string("info"))));
  }
  return b;
}

std::shared_ptr<const condition::Condition> cond(const std::string& text) {
  condition::CompileError err;
  auto c = condition::Condition::compile(text, &err);
  EXPECT_TRUE(c) << err.to_string();
  return c;
}

TEST(TapHubTest, AnUntappedPointIsInactiveAndUnknownPointsAreRefused) {
  TapHub& hub = TapHub::global();
  TapPoint* p = hub.point("output:untapped");
  EXPECT_FALSE(p->active());
  hub.set_live_points({"output:untapped"});
  auto refused = hub.subscribe("output:nope", {});
  ASSERT_FALSE(refused.is_ok());
  const std::string& error = refused.status().message();
  EXPECT_NE(error.find("no tap point 'output:nope'"), std::string::npos) << error;
  EXPECT_NE(error.find("output:untapped"), std::string::npos) << error;
}

TEST(TapHubTest, FilterKeepsOnlyMatchingEventsAsJsonLines) {
  TapHub& hub = TapHub::global();
  TapPoint* p = hub.point("processor:filter_test");
  hub.set_live_points({"processor:filter_test"});
  TapOptions o;
  o.where = cond("level == \"error\"");
  o.rate_per_second = 1000;
  auto subscribed = hub.subscribe("processor:filter_test", o);
  ASSERT_TRUE(subscribed.is_ok()) << subscribed.status().message();
  auto sub = subscribed.value();
  EXPECT_TRUE(p->active());
  p->offer(*batch_of(6));
  auto lines = sub->take();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0],
            "{\"point\":\"processor:filter_test\",\"input\":\"containers\",\"event\":{"
            "\"timestamp\":\"2023-11-14T22:13:20.000000001Z\",\"stream\":\"stdout\","
            "\"message\":\"m1\",\"container_name\":\"api\",\"level\":\"error\"}}\n");
  EXPECT_EQ(sub->sent(), 3u);
  EXPECT_EQ(sub->dropped_rate() + sub->dropped_slow(), 0u);
  EXPECT_FALSE(sub->has_lines());
  hub.unsubscribe(sub);
  EXPECT_FALSE(p->active());
}

TEST(TapHubTest, RateLimitDropsTheExcessAndCountsIt) {
  TapHub& hub = TapHub::global();
  TapPoint* p = hub.point("input:rate_test");
  hub.set_live_points({"input:rate_test"});
  const int64_t rate_before =
      Metrics::global().value("logship_tap_dropped_events_total", label("reason", "rate_limit"));
  TapOptions o;
  o.rate_per_second = 5;   // burst of 5, then 5 per second
  auto subscribed = hub.subscribe("input:rate_test", o);
  ASSERT_TRUE(subscribed.is_ok()) << subscribed.status().message();
  auto sub = subscribed.value();
  p->offer(*batch_of(20));
  EXPECT_EQ(sub->take().size(), 5u);
  EXPECT_EQ(sub->dropped_rate(), 15u);
  EXPECT_EQ(Metrics::global().value("logship_tap_dropped_events_total",
                                    label("reason", "rate_limit")) - rate_before, 15);
  hub.unsubscribe(sub);
}

TEST(TapHubTest, AFullQueueDropsAndCountsWithoutBlocking) {
  TapHub& hub = TapHub::global();
  TapPoint* p = hub.point("output:slow_test");
  hub.set_live_points({"output:slow_test"});
  const int64_t slow_before =
      Metrics::global().value("logship_tap_dropped_events_total", label("reason", "slow_client"));
  TapOptions o;
  o.rate_per_second = 100000;
  o.max_queued_lines = 10;
  o.format = TapOptions::Format::kLine;
  auto subscribed = hub.subscribe("output:slow_test", o);
  ASSERT_TRUE(subscribed.is_ok()) << subscribed.status().message();
  auto sub = subscribed.value();
  for (int i = 0; i < 10; ++i) p->offer(*batch_of(10));   // nobody takes
  EXPECT_EQ(sub->sent(), 10u);
  EXPECT_EQ(sub->dropped_slow(), 90u);
  EXPECT_EQ(Metrics::global().value("logship_tap_dropped_events_total",
                                    label("reason", "slow_client")) - slow_before, 90);
  auto lines = sub->take();
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[1], "2023-11-14T22:13:20.000000001Z output:slow_test containers/stdout: m1 "
                      "container_name=api level=\"error\"\n");
  // Taken: room again.
  p->offer(*batch_of(2));
  EXPECT_EQ(sub->take().size(), 2u);
  hub.unsubscribe(sub);
}

TEST(TapHubTest, SubscriptionsAreCapped) {
  TapHub& hub = TapHub::global();
  hub.set_live_points({"output:cap_test"});
  std::vector<std::shared_ptr<TapSubscription>> subs;
  for (std::size_t i = 0; i < TapHub::kMaxSubscriptions; ++i) {
    auto subscribed = hub.subscribe("output:cap_test", {});
    ASSERT_TRUE(subscribed.is_ok()) << subscribed.status().message();
    subs.push_back(subscribed.value());
  }
  auto refused = hub.subscribe("output:cap_test", {});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("too many taps"), std::string::npos);
  for (auto& s : subs) hub.unsubscribe(s);
  EXPECT_FALSE(hub.point("output:cap_test")->active());
}

}  // namespace
}  // namespace logship
