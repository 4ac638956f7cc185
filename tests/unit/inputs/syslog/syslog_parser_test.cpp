#include "inputs/syslog/syslog_parser.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <random>

namespace logship::syslog {
namespace {

// 2024-05-01T12:00:00Z
constexpr int64_t kNow = 1714564800LL * 1000000000;

struct Expect {
  const char* line;
  int facility, severity, version;
  int64_t time_ns;   // -1: do not check
  const char* hostname;
  const char* app;
  const char* procid;
  const char* msgid;
  const char* message;
  bool malformed;
};

class SyslogParser : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
};

TEST_F(SyslogParser, RealWorldLines) {
  const Expect cases[] = {
      // logger --rfc5424 (util-linux), with its own timeQuality element
      {"<13>1 2024-05-01T10:00:00.682264+00:00 vm myapp - MSG42 [timeQuality tzKnown=\"1\" "
       "isSynced=\"0\"] hello",
       1, 5, 1, 1714557600682264000, "vm", "myapp", "", "MSG42", "hello", false},
      // logger --rfc3164
      {"<13>May  1 10:00:00 vm myapp: hello world", 1, 5, 0, 1714557600000000000, "vm", "myapp",
       "", "", "hello world", false},
      // logger with --id: TAG[PID]
      {"<134>May  1 10:00:00 vm myapp[4242]: started", 16, 6, 0, 1714557600000000000, "vm",
       "myapp", "4242", "", "started", false},
      // Docker syslog driver, default "unix" format: no hostname
      {"<30>May  1 10:00:00 3f4c1b2a9d8e[1234]: GET / 200", 3, 6, 0, 1714557600000000000, "",
       "3f4c1b2a9d8e", "1234", "", "GET / 200", false},
      // Docker syslog-format=rfc3164
      {"<30>May  1 10:00:00 node-7 shop-api[1234]: GET / 200", 3, 6, 0, 1714557600000000000,
       "node-7", "shop-api", "1234", "", "GET / 200", false},
      // Docker syslog-format=rfc5424 (tag as MSGID, no SD)
      {"<30>1 2024-05-01T10:00:00Z node-7 shop-api 1234 shop-api - GET / 200", 3, 6, 1,
       1714557600000000000, "node-7", "shop-api", "1234", "shop-api", "GET / 200", false},
      // Docker syslog-format=rfc5424micro with a zone offset
      {"<27>1 2024-05-01T12:00:00.123456+02:00 node-7 shop-api 1234 shop-api - oops", 3, 3, 1,
       1714557600123456000, "node-7", "shop-api", "1234", "shop-api", "oops", false},
      // rsyslog RSYSLOG_ForwardFormat (BSD header, RFC 3339 time)
      {"<134>2024-05-01T10:00:00.5+00:00 node-7 app[42]: msg text", 16, 6, 0,
       1714557600500000000, "node-7", "app", "42", "", "msg text", false},
      // rsyslog RSYSLOG_TraditionalForwardFormat
      {"<86>May  1 10:00:00 node-7 sshd[42]: Accepted publickey", 10, 6, 0, 1714557600000000000,
       "node-7", "sshd", "42", "", "Accepted publickey", false},
      // Single-digit day with one space, and no tag
      {"<14>May 1 10:00:00 host just words here", 1, 6, 0, 1714557600000000000, "host", "", "",
       "", "just words here", false},
      // No timestamp, no hostname: tag and message
      {"<13>myapp: hello", 1, 5, 0, 0, "", "myapp", "", "", "hello", false},
      // No timestamp and no tag: everything is the message
      {"<13>hello there", 1, 5, 0, 0, "", "", "", "", "hello there", false},
      // RFC 5424 with every field nil
      {"<14>1 - - - - - -", 1, 6, 1, 0, "", "", "", "", "", false},
      // RFC 5424 BOM is removed from the message; UTF-8 kept
      {"<14>1 2024-05-01T10:00:00Z h a p m - \xEF\xBB\xBFgrüße", 1, 6, 1, 1714557600000000000,
       "h", "a", "p", "m", "grüße", false},
      // RFC 5424 with a bad timestamp: kept, marked malformed, message = everything after PRI
      {"<14>1 2024-13-01T10:00:00Z h a p m - x", 1, 6, 1, 0, "", "", "", "",
       "1 2024-13-01T10:00:00Z h a p m - x", true},
      // RFC 5424 with an unterminated SD element
      {"<14>1 - h a p m [id k=\"v] x", 1, 6, 1, 0, "", "", "", "", "1 - h a p m [id k=\"v] x",
       true},
      // Cisco-style: no tag before the colon
      {"<189>: %SYS-5-CONFIG_I: Configured", 23, 5, 0, 0, "", "", "", "",
       ": %SYS-5-CONFIG_I: Configured", false},
      // rsyslog's RSYSLOG_SyslogProtocol23Format ends octet-counted frames with LF
      {"<134>1 2024-05-01T10:00:00Z h app 1 - - text\n", 16, 6, 1, 1714557600000000000, "h",
       "app", "1", "", "text", false},
      // PRI 0 and 191 are the bounds
      {"<0>x", 0, 0, 0, 0, "", "", "", "", "x", false},
      {"<191>x", 23, 7, 0, 0, "", "", "", "", "x", false},
  };
  ParsedMessage m;
  for (const Expect& c : cases) {
    SCOPED_TRACE(c.line);
    ASSERT_EQ(parse_message(c.line, kNow, &m), ParseResult::kOk);
    EXPECT_EQ(m.facility, c.facility);
    EXPECT_EQ(m.severity, c.severity);
    EXPECT_EQ(m.version, c.version);
    if (c.time_ns >= 0) {
      EXPECT_EQ(m.time_ns, c.time_ns);
    }
    EXPECT_EQ(m.hostname, c.hostname);
    EXPECT_EQ(m.app_name, c.app);
    EXPECT_EQ(m.procid, c.procid);
    EXPECT_EQ(m.msgid, c.msgid);
    EXPECT_EQ(m.message, c.message);
    EXPECT_EQ(m.malformed, c.malformed);
  }
}

TEST_F(SyslogParser, StructuredDataWithEscapes) {
  ParsedMessage m;
  ASSERT_EQ(parse_message("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
                          "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appli\\\"cat\\]ion\" "
                          "path=\"C:\\\\x\"][examplePriority@32473 class=\"high\"] BOMAn "
                          "application event",
                          kNow, &m),
            ParseResult::kOk);
  EXPECT_FALSE(m.malformed);
  ASSERT_EQ(m.sd.size(), 4u);
  EXPECT_EQ(m.sd[0].id, "exampleSDID@32473");
  EXPECT_EQ(m.sd[0].name, "iut");
  EXPECT_EQ(m.sd[0].value, "3");
  EXPECT_EQ(m.sd[1].value, "Appli\\\"cat\\]ion");
  std::string un;
  unescape_sd_value(m.sd[1].value, &un);
  EXPECT_EQ(un, "Appli\"cat]ion");
  un.clear();
  unescape_sd_value(m.sd[2].value, &un);
  EXPECT_EQ(un, "C:\\x");
  EXPECT_EQ(m.sd[3].id, "examplePriority@32473");
  EXPECT_EQ(m.sd[3].name, "class");
  EXPECT_EQ(m.message, "BOMAn application event");
  EXPECT_EQ(m.time_ns, 1065910455003000000);
  // Unknown escapes stay as they are (RFC 5424 6.3.3).
  un.clear();
  unescape_sd_value("a\\nb", &un);
  EXPECT_EQ(un, "a\\nb");
}

TEST_F(SyslogParser, BsdTimestampYearNearestNow) {
  ParsedMessage m;
  // A December message read on 2024-01-01 is from 2023.
  const int64_t jan1 = 1704067200LL * 1000000000 + 60LL * 1000000000;
  ASSERT_EQ(parse_message("<13>Dec 31 23:59:00 h t: m", jan1, &m), ParseResult::kOk);
  EXPECT_EQ(m.time_ns, 1704067140LL * 1000000000);
}

TEST_F(SyslogParser, GarbageIsRejected) {
  const char* garbage[] = {"", "hello", "<", "<>x", "<1", "<192>x", "<1234>x", "<a>x",
                           "\x01\x02\x03", " <13>x"};
  ParsedMessage m;
  for (const char* g : garbage) {
    SCOPED_TRACE(g);
    EXPECT_EQ(parse_message(g, kNow, &m), ParseResult::kGarbage);
  }
  // Random bytes never crash and are garbage unless they happen to start with a valid PRI.
  std::mt19937 rng(42);
  std::string buf;
  for (int i = 0; i < 20000; ++i) {
    buf.resize(rng() % 200);
    for (char& c : buf) c = static_cast<char>(rng());
    if (i % 2 == 0 && buf.size() > 8) buf.replace(0, 4, i % 4 == 0 ? "<13>" : "<1>1");
    (void)parse_message(buf, kNow, &m);
  }
}

struct Collected {
  std::vector<std::string> frames;
  int oversized = 0;
  int incomplete = 0;
  auto on_frame() {
    return [this](std::string_view f) { frames.emplace_back(f); };
  }
  auto on_error() {
    return [this](Framer::Error e) {
      (e == Framer::Error::kOversized ? oversized : incomplete)++;
    };
  }
};

TEST(SyslogFramer, OctetCountingAndLfMixedAcrossReads) {
  std::string stream = "5 <1>ab<2>cd\n11 <3>1 - - - \r\n<4>x\n";
  // Feed in every possible split point, and byte by byte.
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    Framer fr(100);
    Collected c;
    fr.feed(std::string_view(stream).substr(0, split), c.on_frame(), c.on_error());
    fr.feed(std::string_view(stream).substr(split), c.on_frame(), c.on_error());
    fr.finish(c.on_frame(), c.on_error());
    SCOPED_TRACE(split);
    ASSERT_EQ(c.frames.size(), 4u);
    EXPECT_EQ(c.frames[0], "<1>ab");
    EXPECT_EQ(c.frames[1], "<2>cd");
    EXPECT_EQ(c.frames[2], "<3>1 - - - ");
    EXPECT_EQ(c.frames[3], "<4>x");
    EXPECT_EQ(c.oversized + c.incomplete, 0);
  }
  Framer fr(100);
  Collected c;
  for (char ch : stream) fr.feed(std::string_view(&ch, 1), c.on_frame(), c.on_error());
  EXPECT_EQ(c.frames.size(), 4u);
}

TEST(SyslogFramer, OctetFrameMayHoldNewlines) {
  Framer fr(100);
  Collected c;
  fr.feed("8 <1>a\nb\nc8 <1>12345", c.on_frame(), c.on_error());
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.frames[0], "<1>a\nb\nc");
  EXPECT_EQ(c.frames[1], "<1>12345");
}

TEST(SyslogFramer, OversizedFramesSkippedOthersKept) {
  Framer fr(10);
  Collected c;
  std::string big_octet = "20 <1>" + std::string(17, 'x');
  fr.feed(big_octet.substr(0, 8), c.on_frame(), c.on_error());
  fr.feed(big_octet.substr(8) + "4 <1>a", c.on_frame(), c.on_error());
  fr.feed("<2>" + std::string(30, 'y'), c.on_frame(), c.on_error());   // LF frame, too long
  fr.feed(std::string(30, 'y') + "\n<3>ok\n", c.on_frame(), c.on_error());
  fr.feed("<4>" + std::string(30, 'z') + "\n", c.on_frame(), c.on_error());
  fr.feed("<5>fine\n", c.on_frame(), c.on_error());
  fr.finish(c.on_frame(), c.on_error());
  EXPECT_EQ(c.oversized, 3);
  EXPECT_EQ(c.incomplete, 0);
  ASSERT_EQ(c.frames.size(), 3u);
  EXPECT_EQ(c.frames[0], "<1>a");
  EXPECT_EQ(c.frames[1], "<3>ok");
  EXPECT_EQ(c.frames[2], "<5>fine");
}

TEST(SyslogFramer, HalfFrameThenCloseIsIncomplete) {
  Framer fr(100);
  Collected c;
  fr.feed("10 <1>abc", c.on_frame(), c.on_error());
  fr.finish(c.on_frame(), c.on_error());
  EXPECT_EQ(c.frames.size(), 0u);
  EXPECT_EQ(c.incomplete, 1);
  // A last LF frame without its newline is complete at close (logger, nc).
  Framer lf(100);
  Collected d;
  lf.feed("<1>last", d.on_frame(), d.on_error());
  lf.finish(d.on_frame(), d.on_error());
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_EQ(d.frames[0], "<1>last");
}

TEST(SyslogFramer, DigitsWithoutSpaceAreAnLfFrame) {
  Framer fr(100);
  Collected c;
  fr.feed("123abc\n12345678901 x\n", c.on_frame(), c.on_error());
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.frames[0], "123abc");
  EXPECT_EQ(c.frames[1], "12345678901 x");
}

}  // namespace
}  // namespace logship::syslog
