#include <gtest/gtest.h>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::make;
using testing::metric;
using testing::source;

TEST(RegexParserTest, NginxCombinedAccessLine) {
  auto p = make("regex", "rx_nginx", "{format: nginx}");
  const std::string line =
      R"(203.0.113.7 - - [01/May/2024:10:00:00 +0000] "GET /api/orders?id=7&x=%20y HTTP/1.1" 200 )"
      R"(512 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 )"
      R"((KHTML, like Gecko) Chrome/124.0 Safari/537.36")";
  auto b = batch(source(), {line});
  p->process(*b);
  const Event& e = b->events()[0];
  EXPECT_EQ(e.message, line);   // keep_original defaults to true for regex
  EXPECT_EQ(e.flags, 0);
  EXPECT_EQ(fields_json(e),
            R"({"client":"203.0.113.7","time":"01/May/2024:10:00:00 +0000","method":"GET",)"
            R"("path":"/api/orders?id=7&x=%20y","protocol":"HTTP/1.1","status":200,"bytes":512,)"
            R"("referer":"https://shop.example.com/cart","user_agent":"Mozilla/5.0 (X11; Linux )"
            R"(x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"})");
}

TEST(RegexParserTest, NginxExtraFieldsAndGarbageRequests) {
  auto p = make("regex", "rx_nginx2", "{format: combined}");
  auto b = batch(source(), {
      // nginx logs a TLS handshake sent to a plain-HTTP port like this
      R"(198.51.100.4 - - [01/May/2024:10:00:01 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03" 400 157 "-" "-")",
      // custom log_format with $request_time and X-Forwarded-For after the combined fields
      R"(10.0.0.2 - alice [01/May/2024:10:00:02 +0000] "POST /login HTTP/2.0" 302 0 "-" "curl/8.5.0" 0.004 "192.0.2.1")",
  });
  p->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"client":"198.51.100.4","time":"01/May/2024:10:00:01 +0000",)"
            R"("request":"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03","status":400,)"
            R"("bytes":157})");
  EXPECT_EQ(fields_json(b->events()[1]),
            R"({"client":"10.0.0.2","user":"alice","time":"01/May/2024:10:00:02 +0000",)"
            R"("method":"POST","path":"/login","protocol":"HTTP/2.0","status":302,"bytes":0,)"
            R"("user_agent":"curl/8.5.0"})");
}

TEST(RegexParserTest, ApacheCommonLineWithoutBytes) {
  auto p = make("regex", "rx_apache", "{format: apache}");
  auto b = batch(source(),
                 {R"(192.168.1.20 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 304 -)"});
  p->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"client":"192.168.1.20","user":"frank","time":"10/Oct/2000:13:55:36 -0700",)"
            R"("method":"GET","path":"/apache_pb.gif","protocol":"HTTP/1.0","status":304})");
}

TEST(RegexParserTest, SyslogRfc3164FileLinesAndForwardedWithPri) {
  auto p = make("regex", "rx_3164", "{format: syslog_rfc3164, keep_original: false}");
  auto b = batch(source(), {
      "May  1 10:00:00 web-1 sshd[2211]: Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2",
      "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
      "Dec 24 07:01:02 db-2 kernel: [12345.678901] EXT4-fs (sda1): mounted filesystem",
  });
  p->process(*b);
  EXPECT_EQ(b->events()[0].message,
            "Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2");
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"time":"May  1 10:00:00","host":"web-1","ident":"sshd","pid":"2211"})");
  EXPECT_EQ(b->events()[1].message, "'su root' failed for lonvick on /dev/pts/8");
  EXPECT_EQ(fields_json(b->events()[1]),
            R"({"pri":34,"time":"Oct 11 22:14:15","host":"mymachine","ident":"su",)"
            R"("facility":4,"severity":2})");
  EXPECT_EQ(b->events()[2].message, "[12345.678901] EXT4-fs (sda1): mounted filesystem");
  EXPECT_EQ(fields_json(b->events()[2]),
            R"({"time":"Dec 24 07:01:02","host":"db-2","ident":"kernel"})");
}

TEST(RegexParserTest, SyslogRfc5424WithStructuredDataAndNilValues) {
  auto p = make("regex", "rx_5424", "{format: syslog_rfc5424}");
  auto b = batch(source(), {
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][meta x="a\]b"] An application event log entry...)",
      "<14>1 2024-05-01T10:00:00.123456+02:00 web-1 nginx 1234 - - \xEF\xBB\xBFstarted worker",
      "<14>1 2024-05-01T10:00:00Z web-1 app - - -",
  });
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "An application event log entry...");
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"pri":165,"version":1,"time":"2003-10-11T22:14:15.003Z","host":"mymachine.example.com",)"
            R"("app":"evntslog","msgid":"ID47","structured_data":"[exampleSDID@32473 iut=\"3\" )"
            R"(eventSource=\"Application\" eventID=\"1011\"][meta x=\"a\\]b\"]","facility":20,"severity":5})");
  EXPECT_EQ(b->events()[1].message, "started worker");
  EXPECT_EQ(fields_json(b->events()[1]),
            R"({"pri":14,"version":1,"time":"2024-05-01T10:00:00.123456+02:00","host":"web-1",)"
            R"("app":"nginx","procid":"1234","facility":1,"severity":6})");
  EXPECT_EQ(b->events()[2].flags, 0);
  EXPECT_EQ(fields_json(b->events()[2]),
            R"({"pri":14,"version":1,"time":"2024-05-01T10:00:00Z","host":"web-1","app":"app",)"
            R"("facility":1,"severity":6})");
}

TEST(RegexParserTest, SyslogTriesRfc5424ThenRfc3164) {
  auto p = make("regex", "rx_syslog", "{format: syslog}");
  auto b = batch(source(), {"<13>1 2024-05-01T10:00:00Z h a p m - hello",
                            "<13>May  1 10:00:00 h a[9]: hi", "not syslog at all"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "hello");
  EXPECT_EQ(b->events()[1].message, "hi");
  EXPECT_EQ(b->events()[2].message, "not syslog at all");
  EXPECT_EQ(b->events()[2].flags, kEventParseFailed);
  EXPECT_EQ(metric("logship_regex_parser_parsed_total", "rx_syslog"), 2);
  EXPECT_EQ(metric("logship_regex_parser_failed_total", "rx_syslog"), 1);
}

TEST(RegexParserTest, CustomPatternWithTypedCaptures) {
  auto p = make("regex", "rx_custom",
                R"({pattern: '^(?P<method>\w+) (?P<path>\S+) (?P<status>\d+) (?P<duration>\S+)ms (?P<cached>\w+)$',)"
                R"( types: {status: int, duration: double, cached: bool}})");
  auto b = batch(source(), {"GET /a 200 12.75ms true", "GET /b 404 fast!ms false", "garbage"});
  p->process(*b);
  EXPECT_EQ(fields_json(b->events()[0]),
            R"({"method":"GET","path":"/a","status":200,"duration":12.75,"cached":true})");
  // "fast!" is not a double: it stays a string, the event is still parsed, the miss is counted.
  EXPECT_EQ(fields_json(b->events()[1]),
            R"({"method":"GET","path":"/b","status":404,"duration":"fast!","cached":false})");
  EXPECT_EQ(b->events()[2].flags, kEventParseFailed);
  EXPECT_EQ(fields_json(b->events()[2]), R"({"parse_error":"no pattern matched"})");
  EXPECT_EQ(metric("logship_regex_parser_type_errors_total", "rx_custom"), 1);
  EXPECT_EQ(metric("logship_regex_parser_failed_total", "rx_custom"), 1);
}

TEST(RegexParserTest, MessageGroupReplacesTheMessage) {
  auto p = make("regex", "rx_msg",
                R"({pattern: '^(?P<level>[A-Z]+) \[(?P<thread>[^\]]+)\] (?P<msg>.*)$', message_group: msg})");
  auto b = batch(source(), {"WARN [worker-3] queue is 80% full"});
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "queue is 80% full");
  EXPECT_EQ(fields_json(b->events()[0]), R"({"level":"WARN","thread":"worker-3"})");
}

TEST(RegexParserTest, ParsesAFieldAndDropsItWithoutKeepOriginal) {
  auto p = make("regex", "rx_field",
                R"({field: upstream, keep_original: false, pattern: '^(?P<host>[^:]+):(?P<port>\d+)$', types: {port: int}})");
  auto b = batch(source(), {"proxied", "no field"});
  b->events()[0].set("upstream", Value::string(b->copy("10.0.0.8:8080")));
  p->process(*b);
  EXPECT_EQ(b->events()[0].message, "proxied");
  EXPECT_EQ(fields_json(b->events()[0]), R"({"host":"10.0.0.8","port":8080})");
  EXPECT_TRUE(b->events()[1].fields.empty());
  EXPECT_EQ(b->events()[1].flags, 0);
  EXPECT_EQ(metric("logship_regex_parser_skipped_total", "rx_field"), 1);
}

TEST(RegexParserTest, OneCompiledSetupServesManyStreams) {
  auto maker = testing::bind("regex", "rx_shared", "{format: nginx, when_label: logship.parser=nginx}");
  ASSERT_TRUE(maker);
  const std::string line = R"(1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x")";
  std::vector<std::unique_ptr<Processor>> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(maker());
  auto b0 = batch(source({{"logship.parser", "nginx"}}), {line});
  auto b1 = batch(source({{"logship.parser", "json"}}), {line});
  auto b2 = batch(source({{"logship.parser", "nginx"}}), {line});
  streams[0]->process(*b0);
  streams[1]->process(*b1);
  streams[2]->process(*b2);
  EXPECT_EQ(b0->events()[0].find("status")->value.i, 200);
  EXPECT_TRUE(b1->events()[0].fields.empty());
  EXPECT_EQ(b2->events()[0].find("status")->value.i, 200);
}

TEST(RegexParserTest, BadOptionsAreConfigErrors) {
  std::string err;
  EXPECT_FALSE(testing::bind("regex", "rx_e1", "{pattern: '(?P<a>[unclosed'}", &err));
  EXPECT_NE(err.find("does not compile"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("regex", "rx_e2", "{format: nginxx}", &err));
  EXPECT_NE(err.find("unknown built-in"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("regex", "rx_e3", "{pattern: '(?P<a>x)', types: {b: int}}", &err));
  EXPECT_FALSE(testing::bind("regex", "rx_e4", "{pattern: '(?P<a>x)', types: {a: decimal}}", &err));
  EXPECT_FALSE(testing::bind("regex", "rx_e5", "{pattern: '(x)'}", &err));
  EXPECT_FALSE(testing::bind("regex", "rx_e6", "{}", &err));
  EXPECT_FALSE(testing::bind("regex", "rx_e7", "{format: nginx, pattern: '(?P<a>x)'}", &err));
}

}  // namespace
}  // namespace logship
