// The OTLP encoder against the wire format: exact bytes of a known record, decoded requests for
// resource attributes, severity, body, times and ids; OTLP/JSON; partial success; Retry-After.
#include "outputs/otlp/otlp_encoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "outputs/elasticsearch/http_client.h"
#include "tests/unit/outputs/otlp/otlp_test_support.h"

namespace logship::plugins::otlp {
namespace {

using namespace testing;

// 2024-05-01T10:00:00.123456789Z
constexpr int64_t kTime = 1714557600123456789;

// Length-delimited field with a one-byte length, written by hand (not by ProtobufWriter).
std::string ld(uint8_t tag, const std::string& body) {
  EXPECT_LT(body.size(), 128u);
  return std::string(1, static_cast<char>(tag)) + static_cast<char>(body.size()) + body;
}
std::string fixed64(uint8_t tag, uint64_t v) {
  std::string s(1, static_cast<char>(tag));
  for (int i = 0; i < 8; ++i) s += static_cast<char>(v >> (8 * i));
  return s;
}
std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string r;
  for (unsigned char c : s) {
    r += d[c >> 4];
    r += d[c & 15];
  }
  return r;
}

std::shared_ptr<SourceInfo> docker_source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "containers";
  s->key = "docker:1";
  s->tags = {{"container_id", ValueType::kString, std::string(64, 'a')},
             {"container_name", ValueType::kString, "shop-api-1"},
             {"image", ValueType::kString, "registry:5000/shop/api:1.4@sha256:0123"},
             {"hostname", ValueType::kString, "aaaaaaaaaaaa"},
             {"compose_project", ValueType::kString, "shop"},
             {"compose_service", ValueType::kString, "api"}};
  s->labels = {{"com.docker.compose.service", "api"}, {"app.name", "orders"}, {"team", "t1"}};
  s->file_path = "/var/lib/docker/containers/a/a-json.log";
  return s;
}

std::shared_ptr<SourceInfo> cri_source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "pods";
  s->key = "cri:1";
  s->tags = {{"namespace", ValueType::kString, "prod"},
             {"pod", ValueType::kString, "web-7d4b9-x2x"},
             {"pod_uid", ValueType::kString, "1f2e"},
             {"container_name", ValueType::kString, "nginx"},
             {"container_id", ValueType::kString, "cafe"}};
  return s;
}

EncoderOptions options(bool json = false) {
  EncoderOptions o;
  o.json = json;
  o.host = HostIdentity{"node-1", "", ""};
  o.resource_labels = {};
  return o;
}

std::string encode(Encoder& enc, const Batch& b) {
  std::string out;
  Slice s{&b, 0, static_cast<uint32_t>(b.size())};
  enc.encode(std::span<const Slice>(&s, 1), out);
  return out;
}

TEST(OtlpEncoder, ProtobufBytesOfAKnownRecord) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  Batch b(src);
  Event& e = b.add_event();
  e.time_ns = kTime;
  e.stream = Stream::kStdout;
  e.message = "hi";
  e.fields.push_back(Field{"level", Value::string("error")});
  EncoderOptions o;
  o.host.name = "h";
  Encoder enc(o);
  const std::string got = encode(enc, b);

  // Resource{attributes: host.name="h", logship.input="in"}; the first KeyValue spelled out.
  const std::string host_kv = ld(0x0a, ld(0x0a, "host.name") + ld(0x12, ld(0x0a, "h")));
  EXPECT_EQ(hex(host_kv), "0a10" "0a09" "686f73742e6e616d65" "1203" "0a0168");
  const std::string resource =
      host_kv + ld(0x0a, ld(0x0a, "logship.input") + ld(0x12, ld(0x0a, "in")));
  const std::string scope = ld(0x0a, "logship") + ld(0x12, LOGSHIP_VERSION);
  // LogRecord: time (1, fixed64), severity_number (2) ERROR = 17, severity_text (3), body (5),
  // attributes (6) log.iostream, observed_time (11, fixed64) = when the batch was read.
  const std::string record = fixed64(0x09, kTime) + "\x10\x11" + ld(0x1a, "error") +
                             ld(0x2a, ld(0x0a, "hi")) +
                             ld(0x32, ld(0x0a, "log.iostream") + ld(0x12, ld(0x0a, "stdout"))) +
                             fixed64(0x59, static_cast<uint64_t>(b.created_ns()));
  const std::string scope_logs = ld(0x0a, scope) + ld(0x12, record);
  const std::string expected = ld(0x0a, ld(0x0a, resource) + ld(0x12, scope_logs));
  EXPECT_EQ(hex(got), hex(expected));
}

TEST(OtlpEncoder, SeverityNumbers) {
  const std::pair<std::string_view, int> cases[] = {
      {"TRACE", 1},  {"debug", 5},   {"DBG", 5},       {"info", 9},    {"Information", 9},
      {"I", 9},      {"notice", 10}, {"WARN", 13},     {"warning", 13}, {"error", 17},
      {"ERR", 17},   {"critical", 18}, {"alert", 19},  {"fatal", 21},  {"panic", 21},
      {"emerg", 21}, {"0", 21},      {"3", 17},        {"4", 13},      {"6", 9},
      {"7", 5},      {"verbose", 0}, {"8", 0},         {"", 0}};
  for (auto [name, n] : cases) EXPECT_EQ(severity_number(name), n) << name;
}

TEST(OtlpEncoder, SeverityFromTheFirstParsedLevelFieldAndNotRepeatedAsAttribute) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  Batch b(src);
  Event& a = b.add_event();
  a.message = "a";
  a.fields.push_back(Field{"lvl", Value::string("debug")});
  a.fields.push_back(Field{"level", Value::string("WARN")});
  Event& c = b.add_event();
  c.message = "c";
  c.fields.push_back(Field{"level", Value::string("verbose")});
  Event& d = b.add_event();
  d.message = "d";
  d.fields.push_back(Field{"level", Value::integer(3)});   // not a string: an attribute
  Event& s = b.add_event();
  s.message = "s";
  s.fields.push_back(Field{"severity", Value::string("err")});   // syslog's
  Encoder enc(options());
  auto rl = decode_request(encode(enc, b));
  ASSERT_EQ(rl.size(), 1u);
  ASSERT_EQ(rl[0].records.size(), 4u);
  auto rec = [&](int i) { return pb(rl[0].records[i]); };
  EXPECT_EQ(pb_find(rec(0), 2)->num, 13u);
  EXPECT_EQ(pb_find(rec(0), 3)->bytes, "WARN");
  EXPECT_EQ(key_values(rl[0].records[0], 6),
            (std::vector<std::pair<std::string, std::string>>{{"lvl", "debug"}}));
  EXPECT_EQ(pb_find(rec(1), 2), nullptr);   // unknown name: text only
  EXPECT_EQ(pb_find(rec(1), 3)->bytes, "verbose");
  EXPECT_EQ(pb_find(rec(2), 3), nullptr);
  EXPECT_EQ(key_values(rl[0].records[2], 6),
            (std::vector<std::pair<std::string, std::string>>{{"level", "i:3"}}));
  EXPECT_EQ(pb_find(rec(3), 2)->num, 17u);
  EXPECT_EQ(pb_find(rec(3), 3)->bytes, "err");
}

TEST(OtlpEncoder, DockerResourceAttributes) {
  auto src = docker_source();
  Batch b(src);
  b.add_event().message = "x";
  {
    Encoder enc(options());
    auto rl = decode_request(encode(enc, b));
    ASSERT_EQ(rl.size(), 1u);
    EXPECT_EQ(rl[0].scope_name, "logship");
    EXPECT_EQ(rl[0].scope_version, LOGSHIP_VERSION);
    EXPECT_EQ(rl[0].resource, (std::vector<std::pair<std::string, std::string>>{
                                  {"service.name", "api"},   // compose service before the name
                                  {"host.name", "node-1"},
                                  {"container.id", std::string(64, 'a')},
                                  {"container.name", "shop-api-1"},
                                  {"container.image.name", "registry:5000/shop/api"},
                                  {"container.image.tags", "[1.4]"},
                                  {"logship.input", "containers"}}));
    // log.file.path is a record attribute.
    EXPECT_EQ(key_values(rl[0].records[0], 6),
              (std::vector<std::pair<std::string, std::string>>{
                  {"log.file.path", "/var/lib/docker/containers/a/a-json.log"}}));
  }
  {
    EncoderOptions o = options();
    o.service_name_label = "app.name";
    o.resource_labels = {"team", "com.docker.*"};
    Encoder enc(o);
    auto attrs = decode_request(encode(enc, b))[0].resource;
    EXPECT_EQ(attrs.front(), (std::pair<std::string, std::string>{"service.name", "orders"}));
    EXPECT_EQ(attrs[attrs.size() - 3],
              (std::pair<std::string, std::string>{"container.label.com.docker.compose.service", "api"}));
    EXPECT_EQ(attrs[attrs.size() - 2], (std::pair<std::string, std::string>{"container.label.team", "t1"}));
  }
  {
    // Neither label nor compose service: the container name.
    auto plain = std::make_shared<SourceInfo>(*src);
    plain->tags.erase(plain->tags.end() - 1);
    Batch pb2(plain);
    pb2.add_event().message = "x";
    Encoder enc(options());
    EXPECT_EQ(decode_request(encode(enc, pb2))[0].resource.front(),
              (std::pair<std::string, std::string>{"service.name", "shop-api-1"}));
  }
}

TEST(OtlpEncoder, CriResourceAttributes) {
  auto src = cri_source();
  Batch b(src);
  b.add_event().message = "x";
  EncoderOptions o = options();
  o.host.node_name = "worker-3";
  Encoder enc(o);
  EXPECT_EQ(decode_request(encode(enc, b))[0].resource,
            (std::vector<std::pair<std::string, std::string>>{
                {"service.name", "nginx"},
                {"host.name", "node-1"},
                {"container.id", "cafe"},
                {"container.name", "nginx"},
                {"k8s.namespace.name", "prod"},
                {"k8s.pod.name", "web-7d4b9-x2x"},
                {"k8s.pod.uid", "1f2e"},
                {"k8s.container.name", "nginx"},
                {"k8s.node.name", "worker-3"},
                {"logship.input", "pods"}}));
}

// An event as the json parser leaves it: message from "msg", top-level keys as fields, nested
// values as raw JSON text.
Event& parsed_event(Batch& b) {
  Event& e = b.add_event();
  e.time_ns = kTime;
  e.stream = Stream::kStderr;
  e.message = "order placed";
  e.fields.push_back(Field{"level", Value::string("info")});
  e.fields.push_back(Field{"user", Value::raw_json(R"({"id":7,"roles":["a","b"],"vip":true,"x":null})")});
  e.fields.push_back(Field{"ms", Value::real(1.5)});
  e.fields.push_back(Field{"big", Value::raw_json("18446744073709551615")});
  e.fields.push_back(Field{"bad", Value::raw_json("{oops")});
  e.fields.push_back(Field{"trace_id", Value::string("4BF92F3577B34DA6A3CE929D0E0E4736")});
  e.fields.push_back(Field{"span_id", Value::string("00f067aa0ba902b7")});
  e.fields.push_back(Field{"n", Value::integer(-2)});
  return e;
}

TEST(OtlpEncoder, StringBodyWithParsedFieldsAsAttributes) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  Batch b(src);
  parsed_event(b);
  Event& plain = b.add_event();   // no time: the field is left out
  plain.message = "plain";
  Encoder enc(options());
  auto rl = decode_request(encode(enc, b));
  ASSERT_EQ(rl[0].records.size(), 2u);
  const std::string& r = rl[0].records[0];
  auto fs = pb(r);
  EXPECT_EQ(pb_find(fs, 1)->num, static_cast<uint64_t>(kTime));
  EXPECT_EQ(pb_find(fs, 11)->num, static_cast<uint64_t>(b.created_ns()));
  EXPECT_EQ(pb_find(fs, 2)->num, 9u);
  EXPECT_EQ(any_text(pb_find(fs, 5)->bytes), "order placed");
  EXPECT_EQ(hex(pb_find(fs, 9)->bytes), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(hex(pb_find(fs, 10)->bytes), "00f067aa0ba902b7");
  EXPECT_EQ(key_values(r, 6), (std::vector<std::pair<std::string, std::string>>{
                                  {"user", "{id=i:7,roles=[a,b],vip=b:true,x=null}"},
                                  {"ms", "d:1.5"},
                                  {"big", "d:1.84467e+19"},
                                  {"bad", "{oops"},
                                  {"n", "i:-2"},
                                  {"log.iostream", "stderr"}}));
  auto ps = pb(rl[0].records[1]);
  EXPECT_EQ(pb_find(ps, 1), nullptr);
  EXPECT_EQ(any_text(pb_find(ps, 5)->bytes), "plain");
}

TEST(OtlpEncoder, MapBodyAfterJsonParsing) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  Batch b(src);
  parsed_event(b);
  Event& plain = b.add_event();   // nothing parsed: still a string body
  plain.message = "plain";
  EncoderOptions o = options();
  o.map_body = true;
  Encoder enc(o);
  auto rl = decode_request(encode(enc, b));
  auto fs = pb(rl[0].records[0]);
  EXPECT_EQ(any_text(pb_find(fs, 5)->bytes),
            "{message=order placed,user={id=i:7,roles=[a,b],vip=b:true,x=null},ms=d:1.5,"
            "big=d:1.84467e+19,bad={oops,n=i:-2}");
  EXPECT_EQ(key_values(rl[0].records[0], 6),
            (std::vector<std::pair<std::string, std::string>>{{"log.iostream", "stderr"}}));
  EXPECT_EQ(any_text(pb_find(pb(rl[0].records[1]), 5)->bytes), "plain");
}

TEST(OtlpEncoder, InvalidUtf8BecomesReplacementCharacters) {
  auto src = std::make_shared<SourceInfo>();
  src->input = "in";
  Batch b(src);
  b.add_event().message = "a\xff" "b\xc3";
  Encoder enc(options());
  auto rl = decode_request(encode(enc, b));
  EXPECT_EQ(any_text(pb_find(pb(rl[0].records[0]), 5)->bytes), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
}

TEST(OtlpEncoder, SlicesOfOneSourceShareOneResourceLogs) {
  auto a = docker_source();
  auto c = cri_source();
  Batch b1(a), b2(a), b3(c);
  for (Batch* b : {&b1, &b2, &b3}) {
    for (int i = 0; i < 3; ++i) b->add_event().message = b->copy(b->source().input + std::to_string(i));
  }
  const Slice slices[] = {{&b1, 1, 3}, {&b2, 0, 2}, {&b3, 2, 3}};
  Encoder enc(options());
  std::string out;
  enc.encode(slices, out);
  auto rl = decode_request(out);
  ASSERT_EQ(rl.size(), 2u);
  std::vector<std::string> bodies;
  for (const auto& r : rl[0].records) bodies.push_back(any_text(pb_find(pb(r), 5)->bytes));
  EXPECT_EQ(bodies, (std::vector<std::string>{"containers1", "containers2", "containers0", "containers1"}));
  ASSERT_EQ(rl[1].records.size(), 1u);
  EXPECT_EQ(any_text(pb_find(pb(rl[1].records[0]), 5)->bytes), "pods2");
}

TEST(OtlpEncoder, JsonEncoding) {
  auto src = docker_source();
  Batch b(src);
  parsed_event(b);
  Encoder enc(options(true));
  const std::string out = encode(enc, b);
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_EQ(p.parse(out).get(doc), simdjson::SUCCESS) << out;
  auto rl = doc["resourceLogs"].at(0);
  EXPECT_EQ(std::string_view(rl["resource"]["attributes"].at(0)["key"]), "service.name");
  EXPECT_EQ(std::string_view(rl["resource"]["attributes"].at(0)["value"]["stringValue"]), "api");
  EXPECT_EQ(std::string_view(rl["resource"]["attributes"].at(5)["key"]), "container.image.tags");
  EXPECT_EQ(std::string_view(rl["resource"]["attributes"].at(5)["value"]["arrayValue"]["values"].at(0)["stringValue"]), "1.4");
  auto scope = rl["scopeLogs"].at(0);
  EXPECT_EQ(std::string_view(scope["scope"]["name"]), "logship");
  auto rec = scope["logRecords"].at(0);
  EXPECT_EQ(std::string_view(rec["timeUnixNano"]), std::to_string(kTime));
  EXPECT_EQ(std::string_view(rec["observedTimeUnixNano"]), std::to_string(b.created_ns()));
  EXPECT_EQ(int64_t(rec["severityNumber"]), 9);
  EXPECT_EQ(std::string_view(rec["severityText"]), "info");
  EXPECT_EQ(std::string_view(rec["traceId"]), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(std::string_view(rec["spanId"]), "00f067aa0ba902b7");
  EXPECT_EQ(std::string_view(rec["body"]["stringValue"]), "order placed");
  auto user = rec["attributes"].at(0);
  EXPECT_EQ(std::string_view(user["key"]), "user");
  EXPECT_EQ(std::string_view(user["value"]["kvlistValue"]["values"].at(0)["key"]), "id");
  EXPECT_EQ(std::string_view(user["value"]["kvlistValue"]["values"].at(0)["value"]["intValue"]), "7");
  EXPECT_EQ(std::string_view(rec["attributes"].at(4)["value"]["intValue"]), "-2");
  EXPECT_EQ(std::string_view(rec["attributes"].at(6)["key"]), "log.file.path");
}

TEST(OtlpPartialSuccess, Protobuf) {
  int64_t n = -1;
  std::string m;
  // ExportLogsServiceResponse{partial_success{rejected_log_records: 3, error_message: "quota"}}
  EXPECT_TRUE(parse_partial_success(std::string("\x0a\x09\x08\x03\x12\x05quota", 11), &n, &m));
  EXPECT_EQ(n, 3);
  EXPECT_EQ(m, "quota");
  EXPECT_TRUE(parse_partial_success("", &n, &m));   // the usual answer: everything accepted
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(m.empty());
  // Only a warning (rejected 0 with a message).
  EXPECT_TRUE(parse_partial_success(std::string("\x0a\x04\x12\x02hm", 6), &n, &m));
  EXPECT_EQ(n, 0);
  EXPECT_EQ(m, "hm");
  EXPECT_FALSE(parse_partial_success("\x0a\x09\x08", &n, &m));   // truncated
}

TEST(OtlpPartialSuccess, Json) {
  int64_t n = -1;
  std::string m;
  EXPECT_TRUE(parse_json_partial_success(
      R"({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"too old"}})", &n, &m));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(m, "too old");
  EXPECT_TRUE(parse_json_partial_success(R"({"partialSuccess":{"rejectedLogRecords":4}})", &n, &m));
  EXPECT_EQ(n, 4);
  EXPECT_TRUE(parse_json_partial_success("{}", &n, &m));
  EXPECT_EQ(n, 0);
  EXPECT_TRUE(parse_json_partial_success("", &n, &m));
  EXPECT_FALSE(parse_json_partial_success("{\"partialSuccess\":", &n, &m));
  EXPECT_FALSE(parse_json_partial_success(R"({"partialSuccess":{"rejectedLogRecords":"-1"}})", &n, &m));
}

TEST(OtlpRetryAfter, SecondsAndHttpDates) {
  // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
  const std::time_t t = 784111777;
  EXPECT_EQ(es::parse_retry_after("120", t), 120);
  EXPECT_EQ(es::parse_retry_after(" 5 ", t), 5);
  EXPECT_EQ(es::parse_retry_after("0", t), 0);
  EXPECT_EQ(es::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30), 30);
  EXPECT_EQ(es::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 30), 0);   // past
  EXPECT_EQ(es::parse_retry_after("", t), -1);
  EXPECT_EQ(es::parse_retry_after("1.5", t), -1);
  EXPECT_EQ(es::parse_retry_after("-1", t), -1);
  EXPECT_EQ(es::parse_retry_after("9999999999", t), -1);
  EXPECT_EQ(es::parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t), -1);   // obsolete form
}

}  // namespace
}  // namespace logship::plugins::otlp
