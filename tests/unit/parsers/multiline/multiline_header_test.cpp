// rules: header: a record starts with a time stamp or level header; other lines continue it.
#include <gtest/gtest.h>

#include "tests/unit/parsers/multiline/multiline_test_util.h"

namespace logship {
namespace {

using testing::make;
using testing::run;
using testing::source;

TEST(MultilineHeaderTest, EveryBuiltInHeaderStartsARecord) {
  const std::vector<std::string> lines = {
      "orphan line before any header",
      "2024-05-01T10:00:05.412Z starting",          // RFC 3339
      "  config: /etc/app.yaml",
      "2024-05-01 10:00:05,500 ERROR job failed",   // Python asctime, Log4j
      "reason: disk full",
      "   retry in 5s",
      "2024-05-01 10:00:05.600 WARN slow",          // Logback with '.'
      "2024/05/01 10:00:06 go log line",            // Go
      "May  1 10:00:07 host app[12]: syslog line",   // syslog
      "continued syslog text",
      "[2024-05-01 10:00:08,000: ERROR/MainProcess] celery",
      "detail of celery",
      "E, [2024-05-01T10:00:09.000001 #1] ERROR -- : rails",
      "app/models/order.rb:12:in `total'",
      "ERROR:shop.orders:python default format",
      "Traceback (most recent call last):",
      "  File \"/app/x.py\", line 1, in <module>",
      "ValueError: bad",
      R"({"level":"info","msg":"json passes alone"})",
      "line after JSON has nothing to continue",
      "10:00:10.000 [main] INFO  c.e.A - time of day first",
      "May 01, 2024 10:00:11 AM com.example.Main run",
      "SEVERE: boom",
  };
  const std::vector<std::string> want = {
      lines[0],
      lines[1] + "\n" + lines[2],
      lines[3] + "\n" + lines[4] + "\n" + lines[5],
      lines[6],
      lines[7],
      lines[8] + "\n" + lines[9],
      lines[10] + "\n" + lines[11],
      lines[12] + "\n" + lines[13],
      lines[14] + "\n" + lines[15] + "\n" + lines[16] + "\n" + lines[17],
      lines[18],
      lines[19],
      lines[20],
      // JUL's level line is a header of its own ("SEVERE:"), so its two lines stay apart here;
      // rules: java keeps them together.
      lines[21],
      lines[22],
  };
  for (std::size_t per : {0, 1, 2, 5}) {
    SCOPED_TRACE(per);
    auto p = make("multiline", "ml_header", "{rules: header}");
    EXPECT_EQ(run(*p.p, source(), lines, per), want);
  }
}

TEST(MultilineHeaderTest, LabelChoosesHeaderRules) {
  auto maker = testing::bind("multiline", "ml_header_label", "{rules: auto}");
  auto stream = maker();
  const std::vector<std::string> lines = {"2024-05-01 10:00:05 a", "more of a", "2024-05-01 10:00:06 b"};
  EXPECT_EQ(run(*stream, source({{"logship.multiline", "header"}}), lines, 0),
            (std::vector<std::string>{"2024-05-01 10:00:05 a\nmore of a", "2024-05-01 10:00:06 b"}));
}

}  // namespace
}  // namespace logship
