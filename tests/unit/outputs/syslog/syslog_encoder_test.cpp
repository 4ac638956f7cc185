#include "outputs/syslog/syslog_encoder.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <memory>

namespace logship::syslog {
namespace {

// 2024-05-01T10:00:00.123456789Z
constexpr int64_t kTime = 1714557600123456789;

struct Fixture {
  std::shared_ptr<SourceInfo> src = std::make_shared<SourceInfo>();
  Batch batch{src};
  Event& event(std::string_view msg, Stream stream = Stream::kStdout) {
    Event& e = batch.add_event();
    e.time_ns = kTime;
    e.stream = stream;
    e.message = batch.copy(msg);
    return e;
  }
};

EncoderSettings base5424() {
  EncoderSettings s;
  s.hostname = "node-7";
  s.facility = 1;
  return s;
}

std::string encode(Encoder& enc, const Event& e, const SourceInfo& src, bool* cut = nullptr) {
  std::string out;
  bool t = enc.encode(out, e, src);
  if (cut) *cut = t;
  return out;
}

TEST(SyslogEncoder, Rfc5424WithContainerMetadata) {
  Fixture f;
  f.src->tags = {{"container_id", ValueType::kString, "3f4c1b2a9d8e"},
                 {"container_name", ValueType::kString, "shop-api"},
                 {"image", ValueType::kString, "shop/api:1.4"}};
  auto s = base5424();
  s.procid = ValueSpec::parse("4242");
  s.msgid = ValueSpec::parse("{stream}");
  Encoder enc(s);
  EXPECT_EQ(encode(enc, f.event("GET /healthz 200"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 shop-api 4242 stdout "
            "[logship@32473 container_id=\"3f4c1b2a9d8e\" container_name=\"shop-api\" "
            "image=\"shop/api:1.4\"] \xEF\xBB\xBFGET /healthz 200");
}

TEST(SyslogEncoder, EmptyFieldsAreNil) {
  Fixture f;
  auto s = base5424();
  s.hostname = "";
  Encoder enc(s);
  EXPECT_EQ(encode(enc, f.event("x", Stream::kNone), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z - - - - - \xEF\xBB\xBFx");
  // No message: no trailing space either.
  EXPECT_EQ(encode(enc, f.event("", Stream::kNone), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z - - - - -");
}

TEST(SyslogEncoder, SdEscapingAndNames) {
  Fixture f;
  f.src->tags = {{"weird name=\"x]", ValueType::kString, "a\"b\\c]d"},
                 {"this_name_is_far_longer_than_thirty_two_chars", ValueType::kString, "v"}};
  auto s = base5424();
  s.bom = false;
  s.sd_id = "docker@32473";
  Encoder enc(s);
  EXPECT_EQ(encode(enc, f.event("m"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - "
            "[docker@32473 weird_name__x_=\"a\\\"b\\\\c\\]d\" "
            "this_name_is_far_longer_than_thi=\"v\"] m");
}

TEST(SyslogEncoder, SdFieldsOfAllTypesAndNoSd) {
  Fixture f;
  Event& e = f.event("m");
  e.fields.push_back(Field{"user", Value::string("bob")});
  e.fields.push_back(Field{"status", Value::integer(200)});
  e.fields.push_back(Field{"ok", Value::boolean(true)});
  auto s = base5424();
  s.bom = false;
  s.sd_fields = {"user", "status", "ok", "absent"};
  Encoder enc(s);
  EXPECT_EQ(encode(enc, e, *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - "
            "[logship@32473 user=\"bob\" status=\"200\" ok=\"true\"] m");
  s.sd_id = "";
  Encoder no_sd(s);
  EXPECT_EQ(encode(no_sd, e, *f.src), "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - m");
}

TEST(SyslogEncoder, SeverityFromLevelFieldThenStream) {
  Fixture f;
  auto s = base5424();
  s.facility = 16;   // local0
  s.bom = false;
  s.sd_id = "";
  Encoder enc(s);
  Event& warn = f.event("w");
  warn.fields.push_back(Field{"level", Value::string("WARNING")});
  EXPECT_EQ(encode(enc, warn, *f.src).substr(0, 5), "<132>");
  Event& fatal = f.event("f");
  fatal.fields.push_back(Field{"level", Value::string("fatal")});
  EXPECT_EQ(encode(enc, fatal, *f.src).substr(0, 5), "<130>");
  Event& unknown = f.event("u", Stream::kStderr);
  unknown.fields.push_back(Field{"level", Value::string("loud")});
  EXPECT_EQ(encode(enc, unknown, *f.src).substr(0, 5), "<131>");   // stderr -> err
  EXPECT_EQ(encode(enc, f.event("o", Stream::kStdout), *f.src).substr(0, 5), "<134>");
  Event& num = f.event("n");
  num.fields.push_back(Field{"level", Value::integer(7)});
  EXPECT_EQ(encode(enc, num, *f.src).substr(0, 5), "<135>");
  s.default_severity = 5;
  Encoder notice(s);
  EXPECT_EQ(encode(notice, f.event("x", Stream::kNone), *f.src).substr(0, 5), "<133>");
}

TEST(SyslogEncoder, Utf8KeptInvalidReplacedNewlinesOptional) {
  Fixture f;
  auto s = base5424();
  s.sd_id = "";
  Encoder enc(s);
  EXPECT_EQ(encode(enc, f.event("grüße 🚀"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - \xEF\xBB\xBFgrüße 🚀");
  EXPECT_EQ(encode(enc, f.event("bad\xFFz\xC3"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - \xEF\xBB\xBF"
            "bad\xEF\xBF\xBDz\xEF\xBF\xBD");
  EXPECT_EQ(encode(enc, f.event("a\nb"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - \xEF\xBB\xBF" "a\nb");
  s.replace_newlines = true;
  Encoder lf(s);
  EXPECT_EQ(encode(lf, f.event("a\nb\r\nc"), *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - \xEF\xBB\xBF" "a b  c");
}

TEST(SyslogEncoder, HeaderFieldsSanitizedAndCapped) {
  Fixture f;
  Event& e = f.event("m");
  e.fields.push_back(Field{"app", Value::string(f.batch.copy(std::string(60, 'a') + " b"))});
  auto s = base5424();
  s.bom = false;
  s.sd_id = "";
  s.hostname = "my host";
  s.app_name = ValueSpec::parse("{app}");
  Encoder enc(s);
  EXPECT_EQ(encode(enc, e, *f.src),
            "<14>1 2024-05-01T10:00:00.123456Z my_host " + std::string(48, 'a') + " - - - m");
}

TEST(SyslogEncoder, LongMessageCutOnUtf8Boundary) {
  Fixture f;
  auto s = base5424();
  s.bom = false;
  s.sd_id = "";
  s.max_size = 58;
  Encoder enc(s);
  // Header is 49 bytes; 9 bytes of message fit: "abcdefgh" + half of "é" -> cut before "é".
  std::string msg = "abcdefghé" + std::string(100, 'x');
  bool cut = false;
  std::string out = encode(enc, f.event(msg), *f.src, &cut);
  EXPECT_TRUE(cut);
  EXPECT_EQ(out, "<14>1 2024-05-01T10:00:00.123456Z node-7 - - - - abcdefgh");
  EXPECT_EQ(out.size(), 57u);
  std::string fits = encode(enc, f.event("short"), *f.src, &cut);
  EXPECT_FALSE(cut);
}

TEST(SyslogEncoder, Rfc3164) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  Fixture f;
  f.src->tags = {{"container_name", ValueType::kString, "shop-api"}};
  EncoderSettings s;
  s.format = Format::k3164;
  s.facility = 3;   // daemon
  s.hostname = "node-7";
  s.procid = ValueSpec::parse("4242");
  Encoder enc(s);
  EXPECT_EQ(encode(enc, f.event("worker started"), *f.src),
            "<30>May  1 10:00:00 node-7 shop-api[4242]: worker started");
  s.procid = ValueSpec::parse("-");
  s.app_name = ValueSpec::parse("my app!");
  Encoder no_pid(s);
  Event& e = f.event("boom", Stream::kStderr);
  e.time_ns = 1702980000000000000;   // 2023-12-19T10:00:00Z: two-digit day
  EXPECT_EQ(encode(no_pid, e, *f.src), "<27>Dec 19 10:00:00 node-7 my_app_: boom");
}

TEST(SyslogEncoder, WordTables) {
  EXPECT_EQ(facility_from_name("local7"), 23);
  EXPECT_EQ(facility_from_name("KERN"), 0);
  EXPECT_EQ(facility_from_name("17"), 17);
  EXPECT_EQ(facility_from_name("24"), -1);
  EXPECT_EQ(facility_from_name("nope"), -1);
  EXPECT_EQ(severity_from_word("Error"), 3);
  EXPECT_EQ(severity_from_word("trace"), 7);
  EXPECT_EQ(severity_from_word("emerg"), 0);
  EXPECT_EQ(severity_from_word("8"), -1);
}

}  // namespace
}  // namespace logship::syslog
