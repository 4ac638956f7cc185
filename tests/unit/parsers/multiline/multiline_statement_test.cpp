// Statements and their traces, rules: auto detection, and what must never be merged.
#include <gtest/gtest.h>

#include <thread>

#include "inputs/docker/file_decoder.h"
#include "tests/unit/inputs/docker/docker_test_util.h"
#include "tests/unit/parsers/multiline/multiline_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::Harness;
using testing::make;
using testing::messages;
using testing::metric;
using testing::run;
using testing::source;

int64_t detected(const std::string& processor, const std::string& rules) {
  return Metrics::global().value("logship_multiline_detected_streams_total",
                                 "processor=\"" + processor + "\",rules=\"" + rules + "\"");
}

const std::string kJavaStatement =
    "10:00:05.412 [http-nio-8080-exec-1] ERROR c.e.shop.api.OrderController - order 42 failed";

TEST(MultilineAutoTest, PythonAndJavaContainersUnderOneProcessor) {
  auto maker = testing::bind("multiline", "ml_auto_two", "{rules: auto}");
  ASSERT_TRUE(maker);
  const std::vector<std::string> py = {
      "INFO:shop.orders:order 41 placed",
      "ERROR:shop.orders:order 42 failed",
      "Traceback (most recent call last):",
      "  File \"/app/shop/orders.py\", line 31, in place",
      "    total = sum(i.price for i in order.items)",
      "TypeError: 'NoneType' object is not iterable",
      "ERROR:shop.orders:order 43 failed",
      "INFO:shop.orders:order 44 placed"};
  const std::vector<std::string> java = {
      "10:00:05.101 [main] INFO  c.e.shop.ShopApplication - started",
      kJavaStatement,
      "java.lang.IllegalStateException: order 42 has no items",
      "\tat com.example.shop.orders.OrderService.place(OrderService.java:87)",
      "Caused by: java.lang.NullPointerException: items",
      "\t... 1 more",
      "10:00:05.600 [main] ERROR c.e.shop.api.OrderController - order 43 failed"};
  for (std::size_t per : {1, 2, 3, 8}) {
    SCOPED_TRACE(per);
    auto python_stream = maker();
    auto java_stream = maker();
    EXPECT_EQ(run(*python_stream, source(), py, per),
              (std::vector<std::string>{
                  py[0], py[1] + "\n" + py[2] + "\n" + py[3] + "\n" + py[4] + "\n" + py[5], py[6],
                  py[7]}));
    EXPECT_EQ(run(*java_stream, source(), java, per),
              (std::vector<std::string>{
                  java[0], java[1] + "\n" + java[2] + "\n" + java[3] + "\n" + java[4] + "\n" + java[5],
                  java[6]}));
  }
  // Each stream counts once, for the set it settled on.
  EXPECT_EQ(detected("ml_auto_two", "python"), 4);
  EXPECT_EQ(detected("ml_auto_two", "java"), 4);
  EXPECT_EQ(detected("ml_auto_two", "go"), 0);
}

TEST(MultilineAutoTest, LabelsOverrideDetection) {
  auto maker = testing::bind("multiline", "ml_auto_labels", "{rules: auto}");
  const std::vector<std::string> java = {kJavaStatement, "java.lang.X: boom", "\tat f", "next"};
  auto none = maker();
  auto python = maker();
  EXPECT_EQ(run(*none, source({{"logship.multiline", "none"}}), java, 0), java);
  // Python rules do not know Java frames: only the lines python joins are joined.
  EXPECT_EQ(run(*python, source({{"logship.multiline", "python"}}), java, 0), java);
  EXPECT_EQ(detected("ml_auto_labels", "java"), 0);
}

// Lines that look a little like traces but are not: under auto and every built-in set they
// pass one by one, nothing is merged and no rule set is settled on.
TEST(MultilineAutoTest, NegativeFixturesAreNeverMerged) {
  const std::vector<std::string> lines = {
      R"(203.0.113.7 - - [01/May/2024:10:00:00 +0000] "GET /api/orders HTTP/1.1" 200 512 "-" "curl/8.5.0")",
      R"(198.51.100.4 - - [01/May/2024:10:00:01 +0000] "POST /api/orders HTTP/1.1" 500 87 "-" "Mozilla/5.0")",
      R"j({"level":"error","msg":"order failed","stack":"java.lang.X: boom\n\tat a.B(B.java:1)"})j",
      R"({"level":"info","msg":"at the end"})",
      R"(ts=2024-05-01T10:00:02Z level=error msg="order failed" err="IllegalStateException: boom")",
      R"(time="2024-05-01T10:00:03Z" level=warning msg="retry at 10:00:05")",
      "user=42 action=login status=ok at=2024-05-01T10:00:04Z",
      "order_id=43 total=12.50 currency=EUR",
      "2024-05-01T10:00:05Z ERROR upstream timed out",
      "Exception handler installed for /api",
      "NullPointerException count: 0",
      "java.lang.Exception logging enabled",
      "retrying at 10:00:06",
      "ERROR: connection reset by peer",
      "Error: retry scheduled",   // after a statement, but nothing confirms a trace
      "arrived at gate 4",
      "Caught Exception at startup: none",
      "done",
  };
  for (const char* rules : {"auto", "java", "python", "go", "nodejs", "ruby", "dotnet", "php"}) {
    SCOPED_TRACE(rules);
    const std::string name = std::string("ml_negative_") + rules;
    // java and dotnet continue a group with any indented line (message continuations), so the
    // indented "at" line is only for the others.
    std::vector<std::string> in = lines;
    if (std::string_view(rules) != "java" && std::string_view(rules) != "dotnet") {
      in.insert(in.end() - 1, "  at most 3 retries left");
    }
    for (std::size_t per : {0, 1, 2}) {
      auto p = make("multiline", name, std::string("{rules: ") + rules + "}");
      EXPECT_EQ(run(*p.p, source(), in, per), in);
    }
    EXPECT_EQ(metric("logship_multiline_groups_total", name), 0);
  }
  for (const char* set : {"java", "python", "go", "nodejs", "ruby", "dotnet", "php"}) {
    EXPECT_EQ(detected("ml_negative_auto", set), 0) << set;
  }
}

TEST(MultilineStatementTest, StatementWithoutTraceLeavesAfterFlushTimeout) {
  for (const char* rules : {"java", "auto"}) {
    SCOPED_TRACE(rules);
    auto p = make("multiline", std::string("ml_stmt_timeout_") + rules,
                  std::string("{rules: ") + rules + ", flush_timeout: 100ms}");
    auto src = source();
    auto b = batch(src, {kJavaStatement});
    p->process(*b);
    EXPECT_EQ(b->size(), 0u);   // held: a trace may follow
    auto next = p->next_flush();
    ASSERT_TRUE(next);
    Batch due(src);
    p->flush(due, *next, false);
    EXPECT_EQ(messages(due), (std::vector<std::string>{kJavaStatement}));
    // A trace after the flush is its own event.
    auto b2 = batch(src, {"java.lang.X: boom", "\tat f", "next"});
    p->process(*b2);
    EXPECT_EQ(messages(*b2), (std::vector<std::string>{"java.lang.X: boom\n\tat f"}));
  }
}

TEST(MultilineStatementTest, TraceArrivingAfterTheTimeoutNeverJoins) {
  // The input did not flush in time; the late trace still does not join the old statement.
  auto p = make("multiline", "ml_stmt_late", "{rules: java, flush_timeout: 1ms}");
  auto src = source();
  auto b = batch(src, {kJavaStatement});
  p->process(*b);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto b2 = batch(src, {"java.lang.X: boom", "\tat f"});
  p->process(*b2);
  EXPECT_EQ(messages(*b2), (std::vector<std::string>{kJavaStatement}));
  Batch f(src);
  p->flush(f, SteadyClock::now(), true);
  EXPECT_EQ(messages(f), (std::vector<std::string>{"java.lang.X: boom\n\tat f"}));
}

TEST(MultilineStatementTest, InterleavedStdoutAndStderrWithStatements) {
  const std::vector<std::pair<Stream, std::string>> lines = {
      {Stream::kStdout, "10:00:05.400 [main] ERROR c.e.A - stdout failure"},
      {Stream::kStderr, kJavaStatement},
      {Stream::kStdout, "GET /x 200"},
      {Stream::kStderr, "java.lang.IllegalStateException: boom"},
      {Stream::kStdout, "java.lang.IllegalArgumentException: on stdout"},
      {Stream::kStderr, "\tat a.B.c(B.java:1)"},
      {Stream::kStdout, "10:00:06.000 [main] INFO  c.e.A - done"},
      {Stream::kStderr, "10:00:06.001 [main] ERROR c.e.B - second"},
  };
  const std::vector<std::string> want_err = {
      kJavaStatement + "\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)",
      "10:00:06.001 [main] ERROR c.e.B - second"};
  // On stdout the exception line follows "GET /x 200", no statement: it stays alone.
  const std::vector<std::string> want_out = {
      "10:00:05.400 [main] ERROR c.e.A - stdout failure", "GET /x 200",
      "java.lang.IllegalArgumentException: on stdout", "10:00:06.000 [main] INFO  c.e.A - done"};
  for (const char* rules : {"java", "auto"}) {
    for (std::size_t per : {1, 2, 3, 8}) {
      SCOPED_TRACE(std::string(rules) + " " + std::to_string(per));
      auto p = make("multiline", "ml_stmt_streams", std::string("{rules: ") + rules + "}");
      auto src = source();
      std::vector<std::string> got_err, got_out;
      auto collect = [&](const Batch& b) {
        for (const Event& e : b.events()) {
          (e.stream == Stream::kStderr ? got_err : got_out).emplace_back(e.message);
        }
      };
      for (std::size_t i = 0; i < lines.size(); i += per) {
        auto b = std::make_unique<Batch>(src);
        for (std::size_t k = i; k < std::min(lines.size(), i + per); ++k) {
          Event& e = b->add_event();
          e.stream = lines[k].first;
          e.message = b->copy(lines[k].second);
        }
        p->process(*b);
        collect(*b);
      }
      Batch f(src);
      p->flush(f, SteadyClock::now(), true);
      collect(f);
      EXPECT_EQ(got_err, want_err);
      EXPECT_EQ(got_out, want_out);
    }
  }
}

// Docker's json-file driver cuts a line every 16 KiB; the docker decoder merges the chunks, then
// the statement and its trace are one event, byte for byte.
TEST(MultilineStatementTest, TraceSplitOverDocker16KiBPartials) {
  const std::string statement = kJavaStatement + ": " + std::string(40000, 's');
  const std::string exception = "java.lang.IllegalStateException: " + std::string(20000, 'e');
  const std::vector<std::string> frames = {"\tat com.example.A.b(A.java:1)",
                                           "\tat com.example.C.d(C.java:2)"};
  std::string file;
  auto add = [&](const std::string& line, std::string_view stream) {
    for (std::size_t at = 0; at <= line.size(); at += 16384) {
      std::string chunk = line.substr(at, 16384);
      if (at + 16384 > line.size()) chunk += "\n";   // the last chunk carries the newline
      file += docker::testing::docker_line(chunk, stream, "2024-05-01T10:00:05.412000000Z");
    }
  };
  add(statement, "stderr");
  add("GET /x 200", "stdout");
  add(exception, "stderr");
  for (const auto& f : frames) add(f, "stderr");
  add("10:00:06.000 [main] INFO  c.e.A - done", "stderr");

  for (const char* rules : {"java", "auto"}) {
    SCOPED_TRACE(rules);
    docker::DecoderOptions o;
    docker::DockerLineDecoder json;
    docker::DecoderStats stats;
    docker::FileDecoder dec(o, &json, &stats);
    auto src = source();
    auto p = make("multiline", "ml_stmt_partials", std::string("{rules: ") + rules + "}");
    std::vector<std::pair<Stream, std::string>> out;
    std::string carry;
    uint64_t offset = 0;
    for (std::size_t at = 0; at < file.size(); at += 7000) {   // reads cut lines anywhere
      std::string piece = file.substr(at, 7000);
      std::string buf = carry + piece;
      const std::size_t len = buf.size();
      buf.append(simdjson::SIMDJSON_PADDING, '}');
      auto b = std::make_unique<Batch>(src, 16);
      std::size_t used = dec.consume(buf.data(), len, buf.size(), offset, *b, SteadyClock::now());
      offset += used;
      carry.assign(buf.data() + used, len - used);
      p->process(*b);
      for (const Event& e : b->events()) out.emplace_back(e.stream, std::string(e.message));
    }
    Batch f(src);
    p->flush(f, SteadyClock::now(), true);
    for (const Event& e : f.events()) out.emplace_back(e.stream, std::string(e.message));
    std::vector<std::string> err, std_out;
    for (auto& [stream, m] : out) (stream == Stream::kStderr ? err : std_out).push_back(m);
    EXPECT_EQ(std_out, (std::vector<std::string>{"GET /x 200"}));
    ASSERT_EQ(err.size(), 2u);
    EXPECT_TRUE(err[0] == statement + "\n" + exception + "\n" + frames[0] + "\n" + frames[1])
        << err[0].size();
    EXPECT_EQ(err[1], "10:00:06.000 [main] INFO  c.e.A - done");
  }
}

// ---- The checkpoint never passes a held line, with statements and detection -------------------

TEST(MultilineStatementAckTest, HeldStatementAndTentativeTraceHoldTheCheckpoint) {
  auto p = make("multiline", "ml_stmt_acks", "{rules: auto}");
  Harness h(p.p.get());
  h.emit({"INFO a", kJavaStatement}, 100);   // the statement is held: a trace may follow
  h.deliver();
  EXPECT_EQ(h.delivered, (std::vector<std::string>{"INFO a"}));
  EXPECT_EQ(h.committed(), std::nullopt);
  h.emit({"java.lang.IllegalStateException: boom"}, 200);   // joins tentatively: no set known yet
  EXPECT_TRUE(h.in_output.empty());
  EXPECT_EQ(h.committed(), std::nullopt);
  h.emit({"\tat f1", "INFO b"}, 300);   // a Java frame: the stream is Java, the trace confirmed
  h.deliver();
  EXPECT_EQ(h.committed(), 200u);   // "INFO b" is held in turn
  h.flush(true);
  h.deliver();
  EXPECT_EQ(h.committed(), 300u);
  EXPECT_EQ(h.tracker->unsettled(), 0u);
  EXPECT_EQ(h.delivered, (std::vector<std::string>{
                             "INFO a", kJavaStatement + "\njava.lang.IllegalStateException: boom\n\tat f1", "INFO b"}));
  EXPECT_EQ(detected("ml_stmt_acks", "java"), 1);
}

TEST(MultilineStatementAckTest, UnconfirmedTraceStartIsReleasedAlone) {
  auto p = make("multiline", "ml_stmt_acks_unconfirmed", "{rules: auto}");
  Harness h(p.p.get());
  h.emit({kJavaStatement, "java.lang.IllegalStateException: boom"}, 100);
  h.emit({"INFO b"}, 200);
  h.deliver();
  EXPECT_EQ(h.committed(), 100u);
  h.flush(true);
  h.deliver();
  EXPECT_EQ(h.committed(), 200u);
  EXPECT_EQ(h.delivered, (std::vector<std::string>{kJavaStatement, "java.lang.IllegalStateException: boom", "INFO b"}));
}

TEST(MultilineStatementAckTest, ManyBatchesWithStatementsDeliverEveryLineExactlyOnce) {
  // Statement + exception + 1..7 frames between plain lines, every batch size 1..9, under the
  // fixed set and under detection: the merged events are exactly the statement groups.
  std::vector<std::string> lines;
  std::vector<std::string> want;
  for (int i = 0; i < 200; ++i) {
    lines.push_back("line " + std::to_string(i));
    want.push_back(lines.back());
    if (i % 3 == 0) {
      std::string ev = "10:00:05.000 [main] ERROR c.e.S - failed " + std::to_string(i);
      lines.push_back(ev);
      lines.push_back("java.lang.E" + std::to_string(i) + "Exception: x");
      ev += "\n" + lines.back();
      for (int k = 0; k <= i % 7; ++k) {
        lines.push_back("\tat f" + std::to_string(k) + "()");
        ev += "\n" + lines.back();
      }
      want.push_back(ev);
    }
  }
  for (const char* rules : {"java", "auto"}) {
    for (std::size_t per = 1; per <= 9; ++per) {
      SCOPED_TRACE(std::string(rules) + " " + std::to_string(per));
      auto p = make("multiline", "ml_stmt_acks_many", std::string("{rules: ") + rules + "}");
      Harness h(p.p.get());
      uint64_t end = 0;
      for (std::size_t i = 0; i < lines.size(); i += per) {
        std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(i),
                                      lines.begin() + static_cast<std::ptrdiff_t>(std::min(lines.size(), i + per)));
        end += part.size();
        h.emit(part, end);
        if (i % 4 == 0) h.deliver();
      }
      h.flush(true);
      h.deliver();
      EXPECT_EQ(h.delivered, want);
      EXPECT_EQ(h.committed(), end);
      EXPECT_EQ(h.tracker->unsettled(), 0u);
    }
  }
}

}  // namespace
}  // namespace logship
