// The kafka output against librdkafka's in-process mock cluster: real produce requests, real
// delivery reports, injected broker errors and outages.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "daemon/core/json_writer.h"
#include "daemon/registry/plugin.h"
#include "daemon/runtime/memory_budget.h"
#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

using namespace std::chrono_literals;

class MockCluster {
 public:
  MockCluster() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[256];
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mc_ = rd_kafka_mock_cluster_new(rk_, 1);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc_);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
  }
  rd_kafka_mock_cluster_t* get() { return mc_; }
  const std::string& bootstraps() const { return bootstraps_; }
  void create_topic(const std::string& t) { rd_kafka_mock_topic_create(mc_, t.c_str(), 1, 1); }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mc_;
  std::string bootstraps_;
};

struct Consumed {
  std::string key;
  bool has_key = false;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Reads partition 0 of `topic` from the beginning until `expected` messages arrived plus a
// short quiet period (to catch duplicates), or the timeout passed.
std::vector<Consumed> consume(const std::string& bootstraps, const std::string& topic,
                              std::size_t expected, std::chrono::milliseconds timeout = 15s) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "test", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::vector<Consumed> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<std::chrono::steady_clock::time_point> quiet_until;
  while (std::chrono::steady_clock::now() < deadline) {
    if (quiet_until && std::chrono::steady_clock::now() > *quiet_until) break;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Consumed c;
      c.value.assign(static_cast<const char*>(m->payload), m->len);
      if (m->key) {
        c.has_key = true;
        c.key.assign(static_cast<const char*>(m->key), m->key_len);
      }
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          c.headers[name] = std::string(static_cast<const char*>(val), size);
        }
      }
      out.push_back(std::move(c));
      if (out.size() >= expected && !quiet_until) {
        quiet_until = std::chrono::steady_clock::now() + 300ms;
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

class FakeContext : public OutputContext {
 public:
  const std::string& name() const override { return name_; }
  const std::string& state_dir() const override { return dir_; }
  Status dead_letter(const Event& e, const SourceInfo&, PermanentError,
                     std::string_view reason) override {
    std::lock_guard lock(mu_);
    dead_.emplace_back(std::string(e.message), std::string(reason));
    return Status::ok();
  }
  std::vector<std::pair<std::string, std::string>> dead() {
    std::lock_guard lock(mu_);
    return dead_;
  }

 private:
  std::string name_ = "kafka_test";
  std::string dir_ = "/tmp";
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> dead_;
};

// Collects the result of one deliver() call.
struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  DeliveryResult result;
  DeliverDone callback() {
    return [this](DeliveryResult r) {
      std::lock_guard lock(mu);
      ++calls;
      result = std::move(r);
      cv.notify_all();
    };
  }
  bool wait(std::chrono::milliseconds t = 20s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, [this] { return calls > 0; });
  }
};

std::unique_ptr<Output> make_output(const std::string& yaml, std::string* error = nullptr) {
  const PluginInfo* p = find_plugin(PluginKind::kOutput, "kafka");
  EXPECT_NE(p, nullptr);
  config::Errors errors;
  OutputMaker maker = p->bind_output(YAML::Load(yaml), errors, {PluginKind::kOutput, "k", "kafka"});
  if (!maker) {
    if (error) *error = errors.to_string();
    return nullptr;
  }
  return maker();
}

std::shared_ptr<SourceInfo> source(const std::string& key, const std::string& container) {
  auto s = std::make_shared<SourceInfo>();
  s->input = "docker";
  s->key = key;
  s->tags.push_back(Tag{"container_name", ValueType::kString, container});
  s->tags.push_back(Tag{"container_id", ValueType::kString, "id-" + container});
  return s;
}

SharedBatch batch(std::shared_ptr<SourceInfo> src, uint64_t first, std::size_t n,
                  std::size_t size = 40) {
  auto b = std::make_shared<Batch>(src, n);
  for (std::size_t i = 0; i < n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1700000000123456789 + static_cast<int64_t>(i);
    e.offset = first + i;
    e.stream = Stream::kStdout;
    std::string msg = "seq=" + std::to_string(first + i) + " ";
    msg.resize(std::max(size, msg.size()), 'x');
    e.message = b->copy(msg);
    e.set("level", Value::string("info"));
  }
  return b;
}

std::string base_config(const MockCluster& mc, const std::string& extra) {
  return "brokers: [" + mc.bootstraps() + "]\nlinger: 5ms\nproperties:\n  log_level: \"0\"\n  reconnect.backoff.max.ms: \"500\"\n" +
         extra;
}

// The sequence numbers found in consumed values ("seq=N "), counted.
std::map<uint64_t, int> seqs(const std::vector<Consumed>& msgs) {
  std::map<uint64_t, int> r;
  for (const auto& c : msgs) {
    auto p = c.value.find("seq=");
    EXPECT_NE(p, std::string::npos) << c.value;
    if (p != std::string::npos) r[std::stoull(c.value.substr(p + 4))]++;
  }
  return r;
}

TEST(KafkaOutputTest, DeliversEveryEventWithTopicKeyHeadersAndJsonBody) {
  MockCluster mc;
  mc.create_topic("logs.alpha");
  mc.create_topic("logs.beta");
  auto out = make_output(base_config(mc,
                                     "topic: logs.{container_name}\nkey: event_id\n"
                                     "headers:\n  container: container_name\n  lvl: level\n"
                                     "  missing: no_such_field\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  auto a = source("docker:a", "alpha");
  auto b = source("docker:b", "beta");
  std::vector<SharedBatch> batches = {batch(a, 0, 30), batch(b, 0, 20), batch(a, 30, 20)};
  Outcome o;
  out->deliver(batches, o.callback());
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kDelivered) << o.result.reason;

  auto alpha = consume(mc.bootstraps(), "logs.alpha", 50);
  auto beta = consume(mc.bootstraps(), "logs.beta", 20);
  ASSERT_EQ(alpha.size(), 50u);
  ASSERT_EQ(beta.size(), 20u);
  // Byte-exact JSON bodies, in order, for the first source.
  std::vector<std::string> expected;
  for (const SharedBatch& sb : {batches[0], batches[2]}) {
    for (const Event& e : sb->events()) {
      std::string j;
      json::append_event(j, e, sb->source());
      expected.push_back(j);
    }
  }
  std::set<std::string> keys;
  for (std::size_t i = 0; i < alpha.size(); ++i) {
    EXPECT_EQ(alpha[i].value, expected[i]);
    EXPECT_TRUE(alpha[i].has_key);
    EXPECT_EQ(alpha[i].key.size(), 16u);
    keys.insert(alpha[i].key);
    EXPECT_EQ(alpha[i].headers["container"], "alpha");
    EXPECT_EQ(alpha[i].headers["lvl"], "info");
    EXPECT_EQ(alpha[i].headers.count("missing"), 0u);
  }
  for (auto& c : beta) {
    keys.insert(c.key);
    EXPECT_EQ(c.headers["container"], "beta");
  }
  EXPECT_EQ(keys.size(), 70u) << "event ids must differ across events and sources";

  // The same events delivered again carry the same ids.
  Outcome again;
  out->deliver(std::vector<SharedBatch>{batches[0]}, again.callback());
  ASSERT_TRUE(again.wait());
  auto alpha2 = consume(mc.bootstraps(), "logs.alpha", 80);
  ASSERT_EQ(alpha2.size(), 80u);
  for (std::size_t i = 0; i < 30; ++i) EXPECT_EQ(alpha2[50 + i].key, alpha[i].key);
  out->stop();
  EXPECT_TRUE(ctx.dead().empty());
}

TEST(KafkaOutputTest, RawFormatAndFieldKey) {
  MockCluster mc;
  mc.create_topic("raw");
  auto out = make_output(base_config(mc, "topic: raw\nformat: raw\nkey: field\n"
                                         "key_field: container_id\ncompression: zstd\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  auto sb = batch(source("s", "gamma"), 0, 10);
  Outcome o;
  out->deliver(std::vector<SharedBatch>{sb}, o.callback());
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kDelivered);
  auto got = consume(mc.bootstraps(), "raw", 10);
  ASSERT_EQ(got.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(got[i].value, sb->events()[i].message);
    EXPECT_EQ(got[i].key, "id-gamma");
  }
  out->stop();
}

TEST(KafkaOutputTest, InjectedRetriableErrorsAreRetriedWithoutLossOrDuplicates) {
  MockCluster mc;
  mc.create_topic("t");
  rd_kafka_mock_push_request_errors(mc.get(), 0 /* Produce */, 4,
                                    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                    RD_KAFKA_RESP_ERR__TRANSPORT);
  auto out = make_output(base_config(mc, "topic: t\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  std::vector<Outcome> outcomes(4);
  std::vector<SharedBatch> keep;
  auto src = source("s", "c");
  for (int i = 0; i < 4; ++i) {
    keep.push_back(batch(src, static_cast<uint64_t>(i) * 100, 100));
    out->deliver(std::vector<SharedBatch>{keep.back()}, outcomes[i].callback());
  }
  for (auto& o : outcomes) {
    ASSERT_TRUE(o.wait());
    EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kDelivered) << o.result.reason;
  }
  auto got = seqs(consume(mc.bootstraps(), "t", 400));
  EXPECT_EQ(got.size(), 400u);
  for (const auto& [seq, n] : got) EXPECT_EQ(n, 1) << "seq " << seq;
  out->stop();
}

TEST(KafkaOutputTest, QueueFullIsBackpressureNotLoss) {
  MockCluster mc;
  mc.create_topic("t");
  auto out = make_output(base_config(mc, "topic: t\nqueue_max_messages: 10\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  const int64_t full_before = Metrics::global().value("logship_kafka_queue_full_total",
                                                      "output=\"kafka_test\"");
  auto src = source("s", "c");
  auto sb = batch(src, 0, 1000);
  Outcome o;
  out->deliver(std::vector<SharedBatch>{sb}, o.callback());
  ASSERT_TRUE(o.wait(30s));
  EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kDelivered) << o.result.reason;
  EXPECT_GT(Metrics::global().value("logship_kafka_queue_full_total", "output=\"kafka_test\""),
            full_before);
  auto got = seqs(consume(mc.bootstraps(), "t", 1000));
  EXPECT_EQ(got.size(), 1000u);
  for (const auto& [seq, n] : got) EXPECT_EQ(n, 1) << "seq " << seq;
  out->stop();
}

TEST(KafkaOutputTest, OversizedMessageIsDeadLetteredAndTheRestDelivered) {
  MockCluster mc;
  mc.create_topic("t");
  auto out = make_output(base_config(mc, "topic: t\nmessage_max_bytes: 2000\nformat: raw\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  auto src = source("s", "c");
  auto small1 = batch(src, 0, 10);
  auto big = batch(src, 10, 1, 5000);
  auto small2 = batch(src, 11, 9);
  Outcome o;
  out->deliver(std::vector<SharedBatch>{small1, big, small2}, o.callback());
  ASSERT_TRUE(o.wait());
  EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kDelivered) << o.result.reason;
  auto dead = ctx.dead();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].first.substr(0, 7), "seq=10 ");
  EXPECT_NE(dead[0].second.find("too large"), std::string::npos) << dead[0].second;
  auto got = seqs(consume(mc.bootstraps(), "t", 19));
  EXPECT_EQ(got.size(), 19u);
  EXPECT_EQ(got.count(10), 0u);
  out->stop();
}

TEST(KafkaOutputTest, BrokerSidePermanentErrorDeadLettersThatRecord) {
  MockCluster mc;
  mc.create_topic("t");
  rd_kafka_mock_push_request_errors(mc.get(), 0, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  auto out = make_output(base_config(mc, "topic: t\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  auto src = source("s", "c");
  Outcome first;
  out->deliver(std::vector<SharedBatch>{batch(src, 0, 1)}, first.callback());
  ASSERT_TRUE(first.wait());
  EXPECT_EQ(first.result.kind, DeliveryResult::Kind::kDelivered) << first.result.reason;
  ASSERT_EQ(ctx.dead().size(), 1u);
  EXPECT_NE(ctx.dead()[0].second.find("too large"), std::string::npos);
  // The producer keeps working after the rejected record.
  Outcome second;
  out->deliver(std::vector<SharedBatch>{batch(src, 1, 5)}, second.callback());
  ASSERT_TRUE(second.wait());
  EXPECT_EQ(second.result.kind, DeliveryResult::Kind::kDelivered) << second.result.reason;
  auto got = seqs(consume(mc.bootstraps(), "t", 5));
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(got.count(0), 0u);
  out->stop();
}

TEST(KafkaOutputTest, BrokerDownFailsTheDeliveryBackForRetryThenRedeliveryWorks) {
  MockCluster mc;
  mc.create_topic("t");
  auto out = make_output(base_config(mc, "topic: t\nmessage_timeout: 1500ms\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  // Let the producer learn the topic's leader first, as a running daemon would have.
  auto src = source("s", "c");
  Outcome warm;
  out->deliver(std::vector<SharedBatch>{batch(src, 0, 1)}, warm.callback());
  ASSERT_TRUE(warm.wait());
  ASSERT_EQ(warm.result.kind, DeliveryResult::Kind::kDelivered);

  rd_kafka_mock_broker_set_down(mc.get(), 1);
  auto sb = batch(src, 1, 50);
  Outcome down;
  out->deliver(std::vector<SharedBatch>{sb}, down.callback());
  ASSERT_TRUE(down.wait(15s));
  EXPECT_EQ(down.result.kind, DeliveryResult::Kind::kRetry);
  EXPECT_TRUE(ctx.dead().empty());

  rd_kafka_mock_broker_set_up(mc.get(), 1);
  // As the pipeline does: re-send the whole delivery until it goes through (the client's
  // reconnect backoff can outlast one short message timeout).
  int attempts = 0;
  bool delivered = false;
  while (!delivered && attempts < 10) {
    ++attempts;
    Outcome up;
    out->deliver(std::vector<SharedBatch>{sb}, up.callback());
    ASSERT_TRUE(up.wait(20s));
    delivered = up.result.kind == DeliveryResult::Kind::kDelivered;
  }
  ASSERT_TRUE(delivered);
  auto msgs = consume(mc.bootstraps(), "t", 51);
  auto got = seqs(msgs);
  EXPECT_EQ(got.size(), 51u);   // nothing lost
  // Duplicates are possible only from attempts that timed out after the broker came back.
  EXPECT_LE(msgs.size(), 51u + 50u * static_cast<std::size_t>(attempts - 1));
  out->stop();
}

TEST(KafkaOutputTest, StopLeavesUnconfirmedDeliveriesUnackedWithinTheFlushTimeout) {
  MockCluster mc;
  mc.create_topic("t");
  auto out = make_output(base_config(mc, "topic: t\nmessage_timeout: 60s\nflush_timeout: 500ms\n"
                                         "queue_max_messages: 20\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  rd_kafka_mock_broker_set_down(mc.get(), 1);
  auto src = source("s", "c");
  Outcome a, b;
  out->deliver(std::vector<SharedBatch>{batch(src, 0, 10)}, a.callback());
  // 100 messages against a 20-message queue: this one is still half produced at stop.
  out->deliver(std::vector<SharedBatch>{batch(src, 10, 100)}, b.callback());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(a.calls, 0);
  auto t0 = std::chrono::steady_clock::now();
  out->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(a.calls, 1);
  EXPECT_EQ(b.calls, 1);
  EXPECT_EQ(a.result.kind, DeliveryResult::Kind::kRetry);
  EXPECT_EQ(b.result.kind, DeliveryResult::Kind::kRetry);
  EXPECT_TRUE(ctx.dead().empty());
}

TEST(KafkaOutputTest, BadConfigIsAClearError) {
  std::string err;
  EXPECT_FALSE(make_output("brokers: [127.0.0.1:1]\nproperties:\n  no.such.thing: 1\n", &err));
  EXPECT_NE(err.find("unknown librdkafka property 'no.such.thing'"), std::string::npos) << err;

  err.clear();
  EXPECT_FALSE(make_output("brokers: [127.0.0.1:1]\nacks: \"1\"\n", &err));
  EXPECT_NE(err.find("idempotence needs acks: all"), std::string::npos) << err;

  err.clear();
  EXPECT_FALSE(make_output("topic: t\n", &err));
  EXPECT_NE(err.find("brokers must name at least one broker"), std::string::npos) << err;

  err.clear();
  std::string many = "brokers: [127.0.0.1:1]\nheaders:\n";
  for (int i = 0; i < 17; ++i) many += "  h" + std::to_string(i) + ": f\n";
  EXPECT_FALSE(make_output(many, &err));
  EXPECT_NE(err.find("at most 16 headers"), std::string::npos) << err;

  // librdkafka quotes bad values; a value may be a secret and must not reach the message.
  err.clear();
  EXPECT_FALSE(make_output(
      "brokers: [127.0.0.1:1]\nproperties:\n  security.protocol: hunter2secret\n", &err));
  EXPECT_NE(err.find("security.protocol"), std::string::npos) << err;
  EXPECT_EQ(err.find("hunter2secret"), std::string::npos) << err;

  // An unreachable broker is not a config error: start succeeds, deliveries retry.
  auto out = make_output("brokers: [127.0.0.1:1]\nmessage_timeout: 500ms\n"
                         "properties:\n  log_level: \"0\"\n");
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  Outcome o;
  out->deliver(std::vector<SharedBatch>{batch(source("s", "c"), 0, 3)}, o.callback());
  ASSERT_TRUE(o.wait(10s));
  EXPECT_EQ(o.result.kind, DeliveryResult::Kind::kRetry);
  out->stop();
}

}  // namespace
}  // namespace logship

namespace logship {
namespace {

// librdkafka's copies of produced messages count against service.memory_limit (kafka_queue)
// from produce until their delivery report, and are released at stop whatever happened.
TEST(KafkaOutputTest, TheClientQueueIsChargedToTheMemoryBudgetUntilReported) {
  MockCluster mc;
  mc.create_topic("t");
  auto out = make_output(base_config(mc, "topic: t\nformat: raw\nkey: none\n"
                                         "message_timeout: 60s\nflush_timeout: 200ms\n"));
  ASSERT_TRUE(out);
  FakeContext ctx;
  ASSERT_TRUE(out->start(ctx).is_ok());
  MemoryBudget& budget = MemoryBudget::global();
  const int64_t before = budget.held(MemoryPart::kKafkaQueue);
  auto src = source("s", "c");
  Outcome warm;
  out->deliver(std::vector<SharedBatch>{batch(src, 0, 1)}, warm.callback());
  ASSERT_TRUE(warm.wait());
  ASSERT_EQ(warm.result.kind, DeliveryResult::Kind::kDelivered);
  // Reported: released (by the poller, right after the report).
  for (int i = 0; i < 100 && budget.held(MemoryPart::kKafkaQueue) != before; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(budget.held(MemoryPart::kKafkaQueue), before);

  rd_kafka_mock_broker_set_down(mc.get(), 1);
  Outcome held;
  out->deliver(std::vector<SharedBatch>{batch(src, 1, 10, 100)}, held.callback());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(held.calls, 0);
  // Each message: its 100-byte value plus librdkafka's per-message overhead.
  EXPECT_EQ(budget.held(MemoryPart::kKafkaQueue) - before, 10 * (100 + 256));
  out->stop();
  EXPECT_EQ(held.calls, 1);
  EXPECT_EQ(held.result.kind, DeliveryResult::Kind::kRetry);
  EXPECT_EQ(budget.held(MemoryPart::kKafkaQueue), before);
}

}  // namespace
}  // namespace logship
