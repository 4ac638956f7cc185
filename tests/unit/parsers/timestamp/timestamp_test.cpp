#include <gtest/gtest.h>

#include "parsers/timestamp/time_format.h"
#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using parsers::TimeFormat;
using testing::batch;
using testing::make;
using testing::metric;
using testing::source;

constexpr int64_t kMay1 = 1714557600LL * 1000000000LL;   // 2024-05-01T10:00:00Z
constexpr int64_t kNow = 1717200000LL * 1000000000LL;    // 2024-06-01T00:00:00Z

struct Case {
  const char* format;
  const char* tz;
  const char* text;
  bool ok;
  int64_t want;
};

class TimeFormatTable : public ::testing::TestWithParam<Case> {};

TEST_P(TimeFormatTable, Parses) {
  const Case& c = GetParam();
  int32_t off = 0;
  ASSERT_TRUE(parsers::parse_fixed_offset(c.tz, &off));
  TimeFormat f;
  ASSERT_TRUE(f.compile(c.format, off).is_ok());
  int64_t got = 0;
  ASSERT_EQ(f.parse(c.text, kNow, &got), c.ok) << c.format << " / " << c.text;
  if (c.ok) {
    EXPECT_EQ(got, c.want) << c.format << " / " << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3339, TimeFormatTable,
    ::testing::Values(
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00Z", true, kMay1},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00.123456789Z", true, kMay1 + 123456789},
        Case{"rfc3339", "UTC", "2024-05-01t10:00:00.1z", true, kMay1 + 100000000},
        Case{"rfc3339", "UTC", "2024-05-01T12:00:00.5+02:00", true, kMay1 + 500000000},
        Case{"rfc3339", "UTC", "2024-05-01T05:30:00-04:30", true, kMay1},
        Case{"rfc3339", "UTC", "2024-05-01T12:00:00+0200", true, kMay1},
        Case{"rfc3339", "UTC", "2024-05-01 10:00:00.000001Z", true, kMay1 + 1000},
        Case{"rfc3339", "UTC", "2024-05-01 12:00:00 +02:00", true, kMay1},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00,25Z", true, kMay1 + 250000000},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00.1234567891Z", true, kMay1 + 123456789},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00", true, kMay1},
        Case{"rfc3339", "+02:00", "2024-05-01T12:00:00", true, kMay1},
        Case{"iso8601", "UTC", "2024-02-29T00:00:00Z", true, 1709164800LL * 1000000000LL},
        Case{"rfc3339", "UTC", "1969-12-31T23:59:59Z", true, -1000000000LL},
        Case{"rfc3339", "UTC", "2023-02-29T00:00:00Z", false, 0},
        Case{"rfc3339", "UTC", "2024-13-01T00:00:00Z", false, 0},
        Case{"rfc3339", "UTC", "2024-05-01T24:00:00Z", false, 0},
        Case{"rfc3339", "UTC", "2024-05-01T10:00Z", false, 0},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00+2", false, 0},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00.Z", false, 0},
        Case{"rfc3339", "UTC", "2024-05-01T10:00:00Z junk", false, 0},
        Case{"rfc3339", "UTC", "", false, 0}));

INSTANTIATE_TEST_SUITE_P(
    Epoch, TimeFormatTable,
    ::testing::Values(Case{"epoch", "UTC", "1714557600", true, kMay1},
                      Case{"epoch_s", "UTC", "1714557600.25", true, kMay1 + 250000000},
                      Case{"epoch_s", "UTC", "1714557600.123456789", true, kMay1 + 123456789},
                      Case{"epoch_ms", "UTC", "1714557600123", true, kMay1 + 123000000},
                      Case{"epoch_ms", "UTC", "1714557600123.5", true, kMay1 + 123500000},
                      Case{"epoch_us", "UTC", "1714557600123456", true, kMay1 + 123456000},
                      Case{"epoch_ns", "UTC", "1714557600123456789", true, kMay1 + 123456789},
                      Case{"epoch_s", "UTC", "-1", true, -1000000000LL},
                      Case{"epoch_s", "UTC", "17145576OO", false, 0},
                      Case{"epoch_s", "UTC", "99999999999999999", false, 0},
                      Case{"epoch_ms", "UTC", "", false, 0}));

INSTANTIATE_TEST_SUITE_P(
    Strptime, TimeFormatTable,
    ::testing::Values(
        // nginx / apache $time_local
        Case{"%d/%b/%Y:%H:%M:%S %z", "UTC", "01/May/2024:10:00:00 +0000", true, kMay1},
        Case{"%d/%b/%Y:%H:%M:%S %z", "UTC", "01/May/2024:03:00:00 -0700", true, kMay1},
        // Python logging default (comma before milliseconds)
        Case{"%Y-%m-%d %H:%M:%S,%f", "UTC", "2024-05-01 10:00:00,123", true, kMay1 + 123000000},
        Case{"%Y-%m-%dT%H:%M:%S.%f%z", "UTC", "2024-05-01T12:00:00.000123+0200", true,
             kMay1 + 123000},
        Case{"%Y-%m-%d %H:%M:%S.%f", "+02:00", "2024-05-01 12:00:00.5", true, kMay1 + 500000000},
        // syslog: no year, space-padded day; the year comes from "now"
        Case{"%b %e %H:%M:%S", "UTC", "May  1 10:00:00", true, kMay1},
        Case{"%b %d %H:%M:%S", "UTC", "May 01 10:00:00", true, kMay1},
        // HTTP date, full month and day names, 12-hour clock
        Case{"%a, %d %b %Y %H:%M:%S %Z", "UTC", "Wed, 01 May 2024 10:00:00 GMT", true, kMay1},
        Case{"%A %d %B %Y %T", "UTC", "Wednesday 01 May 2024 10:00:00", true, kMay1},
        Case{"%m/%d/%Y %I:%M:%S %p", "UTC", "05/01/2024 10:00:00 AM", true, kMay1},
        Case{"%m/%d/%Y %I:%M:%S %p", "UTC", "05/01/2024 12:00:00 PM", true, kMay1 + 7200LL * 1000000000LL},
        Case{"%F %T", "UTC", "2024-05-01 10:00:00", true, kMay1},
        Case{"%y%m%d %H%M%S", "UTC", "240501 100000", true, kMay1},
        Case{"%Y %j %H:%M", "UTC", "2024 122 10:00", true, kMay1},
        Case{"%s.%f", "UTC", "1714557600.5", true, kMay1 + 500000000},
        Case{"%Y-%m-%d %H:%M:%S", "UTC", "2024-05-01", false, 0},
        Case{"%Y-%m-%d %H:%M:%S", "UTC", "2024-05-01 10:00:00 extra", false, 0},
        Case{"%d/%b/%Y", "UTC", "01/Mai/2024", false, 0},
        Case{"%Y-%m-%d %Z", "UTC", "2024-05-01 CEST", false, 0}));

TEST(TimeFormatTest, SyslogYearRollsBackAcrossNewYear) {
  TimeFormat f;
  ASSERT_TRUE(f.compile("%b %e %H:%M:%S", 0).is_ok());
  const int64_t jan1_2025 = 1735689600LL * 1000000000LL;
  int64_t got = 0;
  ASSERT_TRUE(f.parse("Dec 31 23:59:59", jan1_2025 + 5LL * 1000000000LL, &got));
  EXPECT_EQ(got, jan1_2025 - 1000000000LL);
  ASSERT_TRUE(f.parse("Jan  1 00:00:03", jan1_2025 + 5LL * 1000000000LL, &got));
  EXPECT_EQ(got, jan1_2025 + 3LL * 1000000000LL);
}

TEST(TimeFormatTest, InvalidFormatsAreRejected) {
  TimeFormat f;
  EXPECT_FALSE(f.compile("%Q", 0).is_ok());
  EXPECT_FALSE(f.compile("nope", 0).is_ok());
  EXPECT_FALSE(f.compile("%H:%M:%S", 0).is_ok());   // no date
  EXPECT_FALSE(f.compile("%Y-%m-%", 0).is_ok());
  int32_t off;
  EXPECT_FALSE(parsers::parse_fixed_offset("Europe/Berlin", &off));
  EXPECT_TRUE(parsers::parse_fixed_offset("-05:30", &off));
  EXPECT_EQ(off, -(5 * 3600 + 30 * 60));
}

TEST(TimestampProcessorTest, SetsEventTimeFromStringAndNumberFields) {
  auto p = make("timestamp", "ts_fields", "{field: ts, format: epoch_ms, remove_field: true}");
  auto b = batch(source(), {"a", "b", "c", "d"});
  auto& ev = b->events();
  ev[0].set("ts", Value::string("1714557600123"));
  ev[1].set("ts", Value::integer(1714557600456));
  ev[2].set("ts", Value::string("yesterday"));
  ev[3].time_ns = 42;   // no field
  ev[2].time_ns = 7;
  p->process(*b);
  EXPECT_EQ(ev[0].time_ns, kMay1 + 123000000);
  EXPECT_TRUE(ev[0].fields.empty());
  EXPECT_EQ(ev[1].time_ns, kMay1 + 456000000);
  EXPECT_EQ(ev[2].time_ns, 7);               // failed: time kept, field kept
  EXPECT_NE(ev[2].find("ts"), nullptr);
  EXPECT_EQ(ev[3].time_ns, 42);
  EXPECT_EQ(metric("logship_timestamp_parsed_total", "ts_fields"), 2);
  EXPECT_EQ(metric("logship_timestamp_failed_total", "ts_fields"), 1);
  EXPECT_EQ(metric("logship_timestamp_missing_total", "ts_fields"), 1);
}

TEST(TimestampProcessorTest, RegexTimeFieldWithNginxFormat) {
  auto rx = make("regex", "ts_rx", "{format: nginx}");
  auto ts = make("timestamp", "ts_nginx", "{format: '%d/%b/%Y:%H:%M:%S %z'}");
  auto b = batch(source(), {R"(1.2.3.4 - - [01/May/2024:12:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "x")"});
  rx->process(*b);
  ts->process(*b);
  EXPECT_EQ(b->events()[0].time_ns, kMay1);
}

TEST(TimestampProcessorTest, BadOptionsAreConfigErrors) {
  std::string err;
  EXPECT_FALSE(testing::bind("timestamp", "ts_e1", "{format: '%Q'}", &err));
  EXPECT_NE(err.find("unsupported directive"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("timestamp", "ts_e2", "{timezone: Mars/Olympus}", &err));
}

}  // namespace
}  // namespace logship
