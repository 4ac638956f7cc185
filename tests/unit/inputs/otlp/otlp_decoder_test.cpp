#include "inputs/otlp/otlp_decoder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "daemon/core/json_writer.h"

namespace logship::plugins::otlp_in {
namespace {

// Protobuf wire format, by hand: what a sender puts on the wire.
std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += char((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += char(v);
  return out;
}
std::string tag(uint32_t field, uint32_t wire) { return varint((uint64_t(field) << 3) | wire); }
std::string len(uint32_t field, std::string_view s) {
  return tag(field, 2) + varint(s.size()) + std::string(s);
}
std::string var(uint32_t field, uint64_t v) { return tag(field, 0) + varint(v); }
std::string fix64(uint32_t field, uint64_t v) {
  std::string out = tag(field, 1);
  out.append(reinterpret_cast<const char*>(&v), 8);
  return out;
}
std::string dbl(uint32_t field, double d) {
  uint64_t v;
  std::memcpy(&v, &d, 8);
  return fix64(field, v);
}

// AnyValue members and KeyValue.
std::string s_val(std::string_view s) { return len(1, s); }
std::string kv(std::string_view key, const std::string& any) { return len(1, key) + len(2, any); }

std::string request(const std::string& resource_attrs, std::string_view scope,
                    const std::string& records) {
  std::string scope_logs = len(1, len(1, scope)) + records;
  return len(1, len(1, resource_attrs) + len(2, scope_logs));
}

std::string field_json(const Event& e, std::string_view key) {
  const Field* f = e.find(key);
  if (f == nullptr) return "<absent>";
  std::string out;
  json::append_value(out, f->value);
  return out;
}

Batch make_batch() { return Batch(std::make_shared<SourceInfo>()); }

TEST(OtlpProtobufDecoder, EveryAnyValueTypeAndRecordField) {
  std::string attrs = len(6, kv("s", s_val("text"))) + len(6, kv("b", var(2, 1))) +
                      len(6, kv("i", var(3, uint64_t(-42)))) + len(6, kv("d", dbl(4, 1.5))) +
                      len(6, kv("bytes", len(7, std::string("\x00\xff\x10", 3)))) +
                      len(6, kv("arr", len(5, len(1, s_val("a")) + len(1, var(3, 7)) +
                                                   len(1, len(6, len(1, kv("deep", var(2, 0)))))))) +
                      len(6, kv("map", len(6, len(1, kv("k", s_val("v"))) +
                                                   len(1, kv("n", dbl(4, 2.25))) +
                                                   len(1, len(1, "empty"))))) +
                      len(6, kv("none", ""));
  std::string record = fix64(1, 1700000000123456789ULL) + fix64(11, 1700000000999999999ULL) +
                       var(2, 17) + len(3, "ERROR") + len(5, s_val("disk full")) + attrs +
                       len(9, std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff", 16)) +
                       len(10, std::string("\xab\xcd\xef\x01\x02\x03\x04\x05", 8)) + var(8, 1) +
                       var(7, 3) + len(12, "event.name") + len(99, "future field");
  std::string res = len(1, kv("service.name", s_val("checkout"))) +
                    len(1, kv("host.name", s_val("web-1"))) + len(1, kv("s", s_val("resource")));
  Batch b = make_batch();
  ASSERT_EQ(decode_protobuf(request(res, "my.lib", len(2, record)), b, 5), "");
  ASSERT_EQ(b.size(), 1u);
  const Event& e = b.events()[0];
  EXPECT_EQ(e.time_ns, 1700000000123456789LL);
  EXPECT_EQ(e.message, "disk full");
  EXPECT_EQ(field_json(e, "s"), "\"text\"");   // the record's attribute wins over the resource's
  EXPECT_EQ(field_json(e, "b"), "true");
  EXPECT_EQ(field_json(e, "i"), "-42");
  EXPECT_EQ(field_json(e, "d"), "1.5");
  EXPECT_EQ(field_json(e, "bytes"), "\"AP8Q\"");
  EXPECT_EQ(field_json(e, "arr"), "[\"a\",7,{\"deep\":false}]");
  EXPECT_EQ(field_json(e, "map"), "{\"k\":\"v\",\"n\":2.25,\"empty\":null}");
  EXPECT_EQ(field_json(e, "none"), "null");
  EXPECT_EQ(field_json(e, "level"), "\"ERROR\"");
  EXPECT_EQ(field_json(e, "severity_number"), "17");
  EXPECT_EQ(field_json(e, "trace_id"), "\"0102030405060708090a0b0c0d0e0fff\"");
  EXPECT_EQ(field_json(e, "span_id"), "\"abcdef0102030405\"");
  EXPECT_EQ(field_json(e, "otel.scope.name"), "\"my.lib\"");
  EXPECT_EQ(field_json(e, "service.name"), "\"checkout\"");
  EXPECT_EQ(field_json(e, "host.name"), "\"web-1\"");
  EXPECT_EQ(e.fields.size(), 15u);   // 8 attributes, 5 record fields, 2 of the resource
}

TEST(OtlpProtobufDecoder, TimesBodiesAndResourceAfterScopes) {
  // resource (1) after scope_logs (2) on the wire; records without time use observed, then now.
  std::string records = len(2, fix64(11, 42) + len(5, var(3, 7))) +
                        len(2, len(5, len(6, len(1, kv("a", s_val("b")))))) +
                        len(2, len(5, len(7, "hi"))) + len(2, "");
  std::string scope_logs = records;
  std::string rl = len(2, scope_logs) + len(1, len(1, kv("k8s.pod.name", s_val("p1"))));
  Batch b = make_batch();
  ASSERT_EQ(decode_protobuf(len(1, rl), b, 99), "");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b.events()[0].time_ns, 42);
  EXPECT_EQ(b.events()[0].message, "7");
  EXPECT_EQ(b.events()[1].time_ns, 99);
  EXPECT_EQ(b.events()[1].message, "{\"a\":\"b\"}");
  EXPECT_EQ(b.events()[2].message, "aGk=");
  EXPECT_EQ(b.events()[3].message, "");
  for (const Event& e : b.events()) EXPECT_EQ(field_json(e, "k8s.pod.name"), "\"p1\"");
}

TEST(OtlpProtobufDecoder, EmptyRequestHasNoEvents) {
  Batch b = make_batch();
  EXPECT_EQ(decode_protobuf("", b, 1), "");
  EXPECT_EQ(b.size(), 0u);
}

TEST(OtlpProtobufDecoder, TruncatedAndGarbageInputIsRefused) {
  std::string record = len(2, fix64(1, 5) + len(5, s_val("hello")) + len(6, kv("a", var(3, 1))));
  std::string whole = request(len(1, kv("x", s_val("y"))), "s", record);
  // Every proper prefix either decodes to a prefix of the records or is refused; never a crash.
  for (std::size_t n = 0; n < whole.size(); ++n) {
    std::string cut(whole.data(), n);   // exact size: a read past it is an ASan report
    Batch b = make_batch();
    std::string why = decode_protobuf(cut, b, 1);
    if (why.empty()) {
      EXPECT_EQ(b.size(), 0u) << n;
    }
  }
  Batch b = make_batch();
  EXPECT_NE(decode_protobuf(std::string("\x0a\xff\xff\xff\xff\x0f", 6), b, 1), "");   // length
  EXPECT_NE(decode_protobuf(std::string("\x0b", 1), b, 1), "");                       // group
  EXPECT_NE(decode_protobuf(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11), b, 1), "");
  EXPECT_NE(decode_protobuf(std::string("\x00\x01", 2), b, 1), "");   // field 0
  EXPECT_NE(decode_protobuf("{\"resourceLogs\":[]}", b, 1), "");
}

TEST(OtlpProtobufDecoder, NestingDepthIsBounded) {
  std::string any = s_val("leaf");
  for (int i = 0; i < kMaxDepth + 2; ++i) any = len(5, len(1, any));
  Batch b = make_batch();
  EXPECT_EQ(decode_protobuf(request("", "", len(2, len(5, any))), b, 1),
            "values nested too deep");
  std::string ok = s_val("leaf");
  for (int i = 0; i < kMaxDepth - 1; ++i) ok = len(5, len(1, ok));
  Batch b2 = make_batch();
  EXPECT_EQ(decode_protobuf(request("", "", len(2, len(6, kv("a", ok)))), b2, 1), "");
}

TEST(OtlpJsonDecoder, OtlpJsonRules) {
  const std::string body = R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"checkout"}},
      {"key":"container.id","value":{"stringValue":"abc"}}]},
    "scopeLogs":[{"scope":{"name":"my.lib"},"logRecords":[
      {"timeUnixNano":"1700000000123456789","severityNumber":9,"severityText":"INFO",
       "traceId":"0102030405060708090A0B0C0D0E0FFF","spanId":"abcdef0102030405",
       "body":{"stringValue":"hello"},
       "attributes":[{"key":"i","value":{"intValue":"-42"}},{"key":"j","value":{"intValue":5}},
         {"key":"d","value":{"doubleValue":1.5}},{"key":"b","value":{"boolValue":true}},
         {"key":"bytes","value":{"bytesValue":"AP8Q"}},
         {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"7"},
            {"kvlistValue":{"values":[{"key":"deep","value":{"boolValue":false}}]}}]}}},
         {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}},
            {"key":"empty"}]}}},
         {"key":"none","value":{}}]},
      {"observedTimeUnixNano":77,"body":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}},
      {}]}]}]})";
  simdjson::dom::parser parser;
  Batch b = make_batch();
  ASSERT_EQ(decode_json(body, b, 5, parser), "");
  ASSERT_EQ(b.size(), 3u);
  const Event& e = b.events()[0];
  EXPECT_EQ(e.time_ns, 1700000000123456789LL);
  EXPECT_EQ(e.message, "hello");
  EXPECT_EQ(field_json(e, "i"), "-42");
  EXPECT_EQ(field_json(e, "j"), "5");
  EXPECT_EQ(field_json(e, "d"), "1.5");
  EXPECT_EQ(field_json(e, "b"), "true");
  EXPECT_EQ(field_json(e, "bytes"), "\"AP8Q\"");
  EXPECT_EQ(field_json(e, "arr"), "[\"a\",7,{\"deep\":false}]");
  EXPECT_EQ(field_json(e, "map"), "{\"k\":\"v\",\"empty\":null}");
  EXPECT_EQ(field_json(e, "none"), "null");
  EXPECT_EQ(field_json(e, "level"), "\"INFO\"");
  EXPECT_EQ(field_json(e, "severity_number"), "9");
  EXPECT_EQ(field_json(e, "trace_id"), "\"0102030405060708090a0b0c0d0e0fff\"");
  EXPECT_EQ(field_json(e, "span_id"), "\"abcdef0102030405\"");
  EXPECT_EQ(field_json(e, "otel.scope.name"), "\"my.lib\"");
  EXPECT_EQ(field_json(e, "service.name"), "\"checkout\"");
  EXPECT_EQ(field_json(e, "container.id"), "\"abc\"");
  EXPECT_EQ(b.events()[1].time_ns, 77);
  EXPECT_EQ(b.events()[1].message, "{\"a\":1}");
  EXPECT_EQ(b.events()[2].time_ns, 5);
  EXPECT_EQ(b.events()[2].message, "");
}

TEST(OtlpJsonDecoder, MalformedIsRefused) {
  simdjson::dom::parser parser;
  for (std::string body : {std::string("not json"), std::string("[]"),
                           std::string(R"({"resourceLogs":{}})"),
                           std::string(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]})"),
                           std::string(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"intValue":"1.5"}}]}]}]}]})"),
                           std::string(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"x"}]}]}]})"),
                           std::string(R"({"resourceLogs":[{"resource":{"attributes":[{"key":1}]}}]})")}) {
    Batch b = make_batch();
    EXPECT_NE(decode_json(body, b, 1, parser), "") << body;
  }
  std::string deep = R"({"stringValue":"x"})";
  for (int i = 0; i < kMaxDepth + 2; ++i) deep = R"({"arrayValue":{"values":[)" + deep + "]}}";
  Batch b = make_batch();
  EXPECT_EQ(decode_json(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":)" + deep + "}]}]}]}",
                        b, 1, parser),
            "values nested too deep");
  Batch empty = make_batch();
  EXPECT_EQ(decode_json("{}", empty, 1, parser), "");
  EXPECT_EQ(empty.size(), 0u);
}

}  // namespace
}  // namespace logship::plugins::otlp_in
