// The splunk_hec preset: byte-exact event bodies, the status policy, and the indexer-ack
// polling state machine step by step.
#include <gtest/gtest.h>

#include "outputs/http/http_output.h"
#include "outputs/http/splunk_hec_ack.h"
#include "outputs/http/splunk_hec_encoder.h"
#include "outputs/http/splunk_hec_status.h"

namespace logship::plugins::httpout {
namespace {

using Kind = httpbatch::Verdict::Kind;
using namespace std::chrono_literals;

std::shared_ptr<SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "containers";
  s->key = "k";
  s->tags = {{"container_name", ValueType::kString, "web"}};
  s->labels = {{"team", "a"}};   // never sent to HEC
  s->file_path = "/var/lib/docker/containers/c/c-json.log";
  return s;
}

TEST(SplunkHecEncoder, EventsWithMetadataFromFieldsElseDefaults) {
  Batch b(source());
  Event& e0 = b.add_event();
  e0.time_ns = 1714557600123456789;
  e0.stream = Stream::kStdout;
  e0.message = b.copy("hello \"hec\"");
  e0.fields.push_back(Field{"sourcetype", Value::string(b.copy("nginx"))});
  e0.fields.push_back(Field{"index", Value::string(b.copy("web_logs"))});
  e0.fields.push_back(Field{"status", Value::integer(200)});
  e0.fields.push_back(Field{"ok", Value::boolean(true)});
  Event& e1 = b.add_event();
  e1.time_ns = 1714557601000000000;
  e1.stream = Stream::kStderr;
  e1.message = b.copy("second");
  e1.fields.push_back(Field{"host", Value::string(b.copy("node-7"))});
  e1.fields.push_back(Field{"req", Value::raw_json(b.copy("{\"a\":1}"))});

  SplunkHecOptions o;
  o.host = "daemon-host";
  o.index = "main";
  SplunkHecEncoder enc(o);
  const httpbatch::Slice slices[] = {{&b, 0, 1}, {&b, 1, 2}};
  std::string out;
  enc.encode(slices, out);
  EXPECT_EQ(out,
            R"({"time":1714557600.123456,"host":"daemon-host","source":"/var/lib/docker/containers/c/c-json.log","sourcetype":"nginx","index":"web_logs","event":"hello \"hec\"","fields":{"stream":"stdout","status":"200","ok":"true"}})"
            "\n"
            R"({"time":1714557601.000000,"host":"node-7","source":"/var/lib/docker/containers/c/c-json.log","sourcetype":"logship","index":"main","event":"second","fields":{"stream":"stderr","req":"{\"a\":1}"}})"
            "\n");
  // The buffer is reused: a second request is encoded alone.
  enc.encode(std::span(slices + 1, 1), out);
  EXPECT_EQ(out.substr(0, 34), R"({"time":1714557601.000000,"host":")");
}

TEST(SplunkHecEncoder, SourceTagGivesMetadataAndInputNamesSource) {
  auto s = source();
  s->file_path.clear();
  s->tags.push_back({"hec_index", ValueType::kString, "from_tag"});
  Batch b(s);
  Event& e = b.add_event();
  e.time_ns = 5;
  e.message = b.copy("m");
  SplunkHecOptions o;
  o.host.clear();
  o.index_field = "hec_index";
  o.sourcetype.clear();
  SplunkHecEncoder enc(o);
  const httpbatch::Slice slice{&b, 0, 1};
  std::string out;
  enc.encode(std::span(&slice, 1), out);
  EXPECT_EQ(out, R"({"time":0.000000,"source":"containers","index":"from_tag","event":"m","fields":{}})" "\n");
}

TEST(SplunkHecStatus, Policy) {
  EXPECT_EQ(judge_splunk_hec_answer(200, R"({"text":"Success","code":0})").kind, Kind::kAccepted);
  EXPECT_EQ(judge_splunk_hec_answer(400, R"({"text":"Invalid data format","code":6})").kind,
            Kind::kDeadLetter);
  EXPECT_EQ(judge_splunk_hec_answer(400, R"({"text":"Incorrect index","code":7})").kind, Kind::kDeadLetter);
  EXPECT_EQ(judge_splunk_hec_answer(400, R"({"text":"Event field is required","code":12})").kind,
            Kind::kDeadLetter);
  const HecJudgement channel = judge_splunk_hec_answer(400, R"({"text":"Data channel is missing","code":10})");
  EXPECT_EQ(channel.kind, Kind::kRetry);
  EXPECT_TRUE(channel.config_error);
  EXPECT_EQ(judge_splunk_hec_answer(400, "not json").kind, Kind::kRetry);
  EXPECT_TRUE(judge_splunk_hec_answer(403, R"({"text":"Invalid token","code":4})").config_error);
  EXPECT_EQ(judge_splunk_hec_answer(401, "").kind, Kind::kRetry);
  EXPECT_EQ(judge_splunk_hec_answer(413, "").kind, Kind::kSplit);
  EXPECT_EQ(judge_splunk_hec_answer(503, R"({"text":"Server is busy","code":9})").kind, Kind::kResend);
  EXPECT_EQ(judge_splunk_hec_answer(429, "").kind, Kind::kResend);
  const HecJudgement internal = judge_splunk_hec_answer(500, "");
  EXPECT_EQ(internal.kind, Kind::kRetry);
  EXPECT_FALSE(internal.config_error);
  EXPECT_EQ(splunk_hec_code(R"({"text":"x","code":14})"), 14);
  EXPECT_EQ(splunk_hec_code("{}"), -1);
}

TEST(SplunkHecStatus, InvalidEventNumberNamesTheOneEventToDeadLetter) {
  const HecJudgement one = judge_splunk_hec_answer(
      400, R"({"text":"Invalid data format","code":6,"invalid-event-number":3})");
  EXPECT_EQ(one.kind, Kind::kDeadLetter);
  EXPECT_EQ(one.invalid_event, std::optional<std::size_t>(3));
  EXPECT_EQ(judge_splunk_hec_answer(400, R"({"text":"Incorrect index","code":7,"invalid-event-number":0})")
                .invalid_event,
            std::optional<std::size_t>(0));
  // Without it, or with a value that is no index, the whole request is dead-lettered.
  EXPECT_FALSE(judge_splunk_hec_answer(400, R"({"text":"Invalid data format","code":6})").invalid_event);
  EXPECT_FALSE(judge_splunk_hec_answer(400, R"({"code":6,"invalid-event-number":-1})").invalid_event);
  EXPECT_FALSE(judge_splunk_hec_answer(400, R"({"code":6,"invalid-event-number":"2"})").invalid_event);
  // A configuration problem keeps being retried whatever it names.
  EXPECT_FALSE(judge_splunk_hec_answer(400, R"({"code":10,"invalid-event-number":2})").invalid_event);
}

TEST(SplunkHecAck, AckIdOfAnswer) {
  EXPECT_EQ(parse_ack_id(R"({"text":"Success","code":0,"ackId":7})"), std::optional<uint64_t>(7));
  EXPECT_EQ(parse_ack_id(R"({"text":"Success","code":0})"), std::nullopt);   // acks off
  EXPECT_EQ(parse_ack_id(""), std::nullopt);
  EXPECT_EQ(parse_ack_id(R"({"ackId":"7"})"), std::nullopt);
  EXPECT_EQ(parse_ack_id(std::string(100000, ' ')), std::nullopt);
}

TEST(SplunkHecAck, PollsUntilConfirmed) {
  const auto t0 = AckWait::Clock::now();
  AckWait w(42, t0, 100ms, 1000ms);
  EXPECT_EQ(w.poll_body(), R"({"acks":[42]})");
  AckWait::Step s = w.first();
  EXPECT_EQ(s.next, AckWait::Next::kPoll);
  EXPECT_EQ(s.wait, 100ms);
  s = w.on_answer(200, R"({"acks":{"42":false}})", t0 + 100ms);
  EXPECT_EQ(s.next, AckWait::Next::kPoll);
  EXPECT_EQ(s.wait, 100ms);
  s = w.on_answer(503, R"({"text":"Server is busy","code":9})", t0 + 200ms);   // busy: again
  EXPECT_EQ(s.next, AckWait::Next::kPoll);
  s = w.on_answer(0, "", t0 + 300ms);   // no answer: again
  EXPECT_EQ(s.next, AckWait::Next::kPoll);
  s = w.on_answer(200, R"({"acks":{"41":true}})", t0 + 400ms);   // another id: not ours
  EXPECT_EQ(s.next, AckWait::Next::kPoll);
  s = w.on_answer(200, R"({"acks":{"42":true}})", t0 + 500ms);
  EXPECT_EQ(s.next, AckWait::Next::kConfirmed);
  EXPECT_EQ(w.polls(), 5);
}

TEST(SplunkHecAck, GivesUpPastTheTimeout) {
  const auto t0 = AckWait::Clock::now();
  AckWait w(3, t0, 100ms, 250ms);
  EXPECT_EQ(w.on_answer(200, R"({"acks":{"3":false}})", t0 + 100ms).next, AckWait::Next::kPoll);
  const AckWait::Step s = w.on_answer(200, R"({"acks":{"3":false}})", t0 + 200ms);
  EXPECT_EQ(s.next, AckWait::Next::kGiveUp);
  EXPECT_EQ(s.reason, "ackId 3 not acknowledged in time (not yet indexed)");
  AckWait bad(4, t0, 100ms, 150ms);
  EXPECT_EQ(bad.on_answer(200, "garbage", t0 + 100ms).reason,
            "ackId 4 not acknowledged in time (unreadable ack answer)");
}

TEST(SplunkHecOptions, Checks) {
  HttpOptions o;
  o.preset = Preset::kSplunkHec;
  EXPECT_EQ(o.validate().message(), "preset splunk_hec needs hec_token");
  o.hec_token = "abc";
  EXPECT_TRUE(o.validate().is_ok());
  EXPECT_EQ(o.request_path(), "/services/collector/event");
  o.path = "/services/collector";
  EXPECT_EQ(o.request_path(), "/services/collector");
  o.hec_token = "a\nb";
  EXPECT_EQ(o.validate().message(), "hec_token holds a newline");
  o.hec_token = "abc";
  o.bearer_token = "t";
  EXPECT_FALSE(o.validate().is_ok());
}

}  // namespace
}  // namespace logship::plugins::httpout
