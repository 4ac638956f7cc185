#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/unit/parsers/multiline/multiline_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::fields_json;
using testing::Harness;
using testing::make;
using testing::messages;
using testing::metric;
using testing::read_expected;
using testing::read_lines;
using testing::run;
using testing::source;

struct Fixture {
  const char* name;
  const char* rules;
};

class MultilineFixtureTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(MultilineFixtureTest, GroupsLikeTheFrameworkWroteThem) {
  const Fixture& fx = GetParam();
  const std::string base = std::string(LOGSHIP_TESTDATA) + "/multiline/" + fx.name;
  const auto lines = read_lines(base + ".log");
  const auto expected = read_expected(base + ".expected");
  ASSERT_GT(lines.size(), 5u);
  // Batch boundaries anywhere (holding across batches) must not change the result, and
  // rules: auto must find the same rule set from the lines alone, before the first trace ends.
  for (const char* rules : {fx.rules, "auto"}) {
    for (std::size_t per_batch : {0, 1, 2, 3, 7}) {
      SCOPED_TRACE(std::string("rules: ") + rules + ", lines per batch: " + std::to_string(per_batch));
      auto p = make("multiline", std::string("ml_fx_") + fx.name, std::string("{rules: ") + rules + "}");
      auto got = run(*p.p, source(), lines, per_batch);
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "event " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Languages, MultilineFixtureTest,
                         ::testing::Values(Fixture{"java_spring_boot", "java"},
                                           Fixture{"python_django", "python"},
                                           Fixture{"go_http_panic", "go"},
                                           Fixture{"node_express", "nodejs"},
                                           Fixture{"ruby_rails", "ruby"},
                                           Fixture{"java_logback", "java"},
                                           Fixture{"python_logging", "python"},
                                           Fixture{"go_log_slog", "go"},
                                           Fixture{"node_statements", "nodejs"},
                                           Fixture{"ruby_logger", "ruby"},
                                           Fixture{"dotnet_console", "dotnet"},
                                           Fixture{"php_errors", "php"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(MultilineTest, OrdinaryLinesAreNeverMerged) {
  const std::vector<std::string> lines = {
      "2024-05-01T10:00:00Z INFO started in 1.2s",
      R"(203.0.113.7 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.5.0")",
      R"(level=info msg="request served" status=200)",
      R"({"level":"info","msg":"x"})",
      R"j({"level":"error","msg":"y","stack":"Error: y\n    at z (a.js:1:1)"})j",
      "WARN cache miss for key user:42",
      "at least one worker is idle",
      "Caused problems: none",
      "panic mode disabled",
      "goroutine pool resized to 8",
      "Traceback recorded in sentry",
      "Did it work? yes",
      "Error: config reloaded",
      "/healthz:200",
      "NoMethodError count: 0",
      "",
      "done",
  };
  for (const char* rules : {"java", "python", "go", "nodejs", "ruby"}) {
    SCOPED_TRACE(rules);
    const std::string name = std::string("ml_plain_") + rules;
    auto p = make("multiline", name, std::string("{rules: ") + rules + "}");
    EXPECT_EQ(run(*p.p, source(), lines, 0), lines);
    auto p2 = make("multiline", name + "_b", std::string("{rules: ") + rules + "}");
    EXPECT_EQ(run(*p2.p, source(), lines, 1), lines);
    EXPECT_EQ(metric("logship_multiline_groups_total", name), 0);
  }
}

TEST(MultilineTest, JsonLinesAreNeverMergedNorHeld) {
  auto p = make("multiline", "ml_json", "{rules: java}");
  const std::vector<std::string> lines = {
      "java.lang.RuntimeException: x", "\tat a.B.c(B.java:1)", R"({"level":"info","n":1})",
      "\tat not.a.Continuation(of the JSON line)", R"(  {"indented":"json"})"};
  auto b = batch(source(), lines);
  p->process(*b);
  // JSON lines pass at once, indented or not; the frame after a JSON line is not joined to it.
  EXPECT_EQ(messages(*b), (std::vector<std::string>{"java.lang.RuntimeException: x\n\tat a.B.c(B.java:1)",
                                                    R"({"level":"info","n":1})",
                                                    "\tat not.a.Continuation(of the JSON line)",
                                                    R"(  {"indented":"json"})"}));
  EXPECT_FALSE(p->next_flush());   // nothing held
}

TEST(MultilineTest, StdoutAndStderrAreReassembledSeparately) {
  auto p = make("multiline", "ml_streams", "{rules: java}");
  auto src = source();
  auto b = std::make_unique<Batch>(src);
  auto add = [&](Stream s, const char* m) {
    Event& e = b->add_event();
    e.stream = s;
    e.message = b->copy(m);
  };
  add(Stream::kStdout, "req 1");
  add(Stream::kStderr, "java.lang.RuntimeException: boom");
  add(Stream::kStdout, "req 2");
  add(Stream::kStderr, "\tat a.B.c(B.java:1)");
  add(Stream::kStdout, "req 3");
  add(Stream::kStderr, "\tat a.B.d(B.java:2)");
  add(Stream::kStderr, "java.lang.IllegalStateException: second");
  add(Stream::kStdout, "req 4");
  p->process(*b);
  ASSERT_EQ(b->size(), 4u);
  EXPECT_EQ(messages(*b), (std::vector<std::string>{
                              "req 1",
                              "java.lang.RuntimeException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)",
                              "req 2", "req 3"}));
  EXPECT_EQ(b->events()[1].stream, Stream::kStderr);
  EXPECT_EQ(b->events()[2].stream, Stream::kStdout);
  Batch f(src);
  p->flush(f, SteadyClock::now(), true);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f.events()[0].message, "req 4");
  EXPECT_EQ(f.events()[0].stream, Stream::kStdout);
  EXPECT_EQ(f.events()[1].message, "java.lang.IllegalStateException: second");
  EXPECT_EQ(f.events()[1].stream, Stream::kStderr);
}

TEST(MultilineTest, InterleavedStreamsAcrossBatchBoundaries) {
  // stderr carries Python tracebacks, stdout ordinary lines with indented continuations of its
  // own; every batch split gives the same per-stream result.
  const std::vector<std::pair<Stream, std::string>> lines = {
      {Stream::kStderr, "Traceback (most recent call last):"},
      {Stream::kStdout, "GET / 200"},
      {Stream::kStderr, "  File \"/app/a.py\", line 3, in <module>"},
      {Stream::kStdout, "GET /x 404"},
      {Stream::kStderr, "    f()"},
      {Stream::kStdout, "  File \"fake.py\", line 1"},   // not in a traceback on stdout
      {Stream::kStderr, "ZeroDivisionError: division by zero"},
      {Stream::kStdout, "Traceback (most recent call last):"},
      {Stream::kStderr, "INFO after"},
      {Stream::kStdout, "  File \"/app/b.py\", line 9, in g"},
      {Stream::kStdout, "KeyError: 'k'"},
      {Stream::kStderr, "INFO last"},
  };
  const std::vector<std::string> want_err = {
      "Traceback (most recent call last):\n  File \"/app/a.py\", line 3, in <module>\n    f()\n"
      "ZeroDivisionError: division by zero",
      "INFO after", "INFO last"};
  const std::vector<std::string> want_out = {
      "GET / 200", "GET /x 404", "  File \"fake.py\", line 1",
      "Traceback (most recent call last):\n  File \"/app/b.py\", line 9, in g\nKeyError: 'k'"};
  for (std::size_t per : {1, 2, 3, 5, 12}) {
    SCOPED_TRACE(per);
    auto p = make("multiline", "ml_streams_split", "{rules: python}");
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

TEST(MultilineTest, FirstLineFieldsAndTimeSurviveHoldingAndFlagsAreCombined) {
  auto p = make("multiline", "ml_fields", "{rules: java}");
  auto src = source();
  auto b1 = batch(src, {"java.lang.X: boom"});
  b1->events()[0].time_ns = 123;
  b1->events()[0].offset = 77;
  b1->events()[0].set("attr", Value::string(b1->copy("from-docker")));
  b1->events()[0].set("n", Value::integer(5));
  p->process(*b1);
  EXPECT_EQ(b1->size(), 0u);
  b1.reset();   // the first line's batch is gone: the held copy must not point into it
  auto b2 = batch(src, {"\tat f", "next"});
  b2->events()[0].flags = kEventTruncated;
  p->process(*b2);
  ASSERT_EQ(b2->size(), 1u);
  const Event& e = b2->events()[0];
  EXPECT_EQ(e.message, "java.lang.X: boom\n\tat f");
  EXPECT_EQ(e.time_ns, 123);
  EXPECT_EQ(e.offset, 77u);
  EXPECT_EQ(e.flags, kEventTruncated);
  EXPECT_EQ(fields_json(e), R"({"attr":"from-docker","n":5})");
}

TEST(MultilineTest, FlushTimeoutEmitsAnIdleGroup) {
  auto p = make("multiline", "ml_timeout", "{rules: java, flush_timeout: 100ms}");
  auto src = source();
  EXPECT_FALSE(p->next_flush());
  const TimePoint before = SteadyClock::now();
  auto b = batch(src, {"java.lang.X: boom", "\tat f"});
  p->process(*b);
  EXPECT_EQ(b->size(), 0u);
  auto next = p->next_flush();
  ASSERT_TRUE(next);
  EXPECT_GE(*next, before + std::chrono::milliseconds(100));
  EXPECT_LE(*next, SteadyClock::now() + std::chrono::milliseconds(100));
  Batch early(src);
  p->flush(early, *next - std::chrono::nanoseconds(1), false);
  EXPECT_EQ(early.size(), 0u);
  Batch due(src);
  p->flush(due, *next, false);
  EXPECT_EQ(messages(due), (std::vector<std::string>{"java.lang.X: boom\n\tat f"}));
  EXPECT_FALSE(p->next_flush());
  EXPECT_EQ(metric("logship_multiline_flush_timeouts_total", "ml_timeout"), 1);
  // After a timeout the next frame does not join anything already emitted.
  auto b2 = batch(src, {"\tat g", "java.lang.Y: again"});
  p->process(*b2);
  EXPECT_EQ(messages(*b2), (std::vector<std::string>{"\tat g"}));
}

TEST(MultilineTest, MaxLinesSplitsWithoutLosingLines) {
  std::vector<std::string> lines = {"java.lang.X: deep"};
  for (int i = 0; i < 9; ++i) lines.push_back("\tat f" + std::to_string(i) + "(A.java:" + std::to_string(i) + ")");
  for (std::size_t per_batch : {0, 3}) {
    auto p = make("multiline", "ml_maxlines_" + std::to_string(per_batch), "{rules: java, max_lines: 4}");
    auto got = run(*p.p, source(), lines, per_batch);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3]);
    EXPECT_EQ(got[1], lines[4] + "\n" + lines[5] + "\n" + lines[6] + "\n" + lines[7]);
    EXPECT_EQ(got[2], lines[8] + "\n" + lines[9]);
    EXPECT_EQ(metric("logship_multiline_splits_total", "ml_maxlines_" + std::to_string(per_batch)), 2);
    EXPECT_EQ(metric("logship_multiline_groups_total", "ml_maxlines_" + std::to_string(per_batch)), 3);
    EXPECT_EQ(metric("logship_multiline_lines_merged_total", "ml_maxlines_" + std::to_string(per_batch)), 7);
  }
}

TEST(MultilineTest, MaxBytesSplitsAndLongLinesPassWhole) {
  auto p = make("multiline", "ml_maxbytes", "{rules: java, max_bytes: 256B}");
  std::vector<std::string> lines = {"E: " + std::string(97, 'h')};
  for (int i = 0; i < 5; ++i) lines.push_back("\tat " + std::string(96, static_cast<char>('a' + i)));
  lines.push_back("huge " + std::string(1000, 'x'));
  lines.push_back("\tat after.huge()");
  auto got = run(*p.p, source(), lines, 0);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], lines[0] + "\n" + lines[1]);
  EXPECT_EQ(got[1], lines[2] + "\n" + lines[3]);
  EXPECT_EQ(got[2], lines[4] + "\n" + lines[5]);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_LE(got[i].size(), 256u);
  // A single line over the cap is never cut; the frame after it goes to a new part.
  EXPECT_EQ(got[3], lines[6]);
  EXPECT_EQ(got[4], lines[7]);
}

TEST(MultilineTest, CustomStartContinueAndNegate) {
  {
    auto p = make("multiline", "ml_custom_start", R"({rules: custom, start: '^\d{4}-\d{2}-\d{2} '})");
    auto got = run(*p.p, source(), {"orphan before any start", "2024-05-01 a", "  detail 1",
                                    "detail 2", "2024-05-01 b"}, 0);
    EXPECT_EQ(got, (std::vector<std::string>{"orphan before any start",
                                             "2024-05-01 a\n  detail 1\ndetail 2", "2024-05-01 b"}));
  }
  {
    auto p = make("multiline", "ml_custom_negate", R"({rules: custom, continue: '^\[', negate: true})");
    auto got = run(*p.p, source(), {"[1] x", "more", "[2] y", "[3] z", "tail"}, 1);
    EXPECT_EQ(got, (std::vector<std::string>{"[1] x\nmore", "[2] y", "[3] z\ntail"}));
  }
  {
    auto p = make("multiline", "ml_custom_both", R"({rules: custom, start: '^BEGIN', continue: '^\s'})");
    auto got = run(*p.p, source(), {"BEGIN", " a", "other", " b", "BEGIN 2", " c"}, 0);
    EXPECT_EQ(got, (std::vector<std::string>{"BEGIN\n a", "other", " b", "BEGIN 2\n c"}));
  }
}

TEST(MultilineTest, RulesChosenPerContainerByLabel) {
  auto maker = testing::bind("multiline", "ml_auto", "{rules: auto}");
  ASSERT_TRUE(maker);
  const std::vector<std::string> py = {"Traceback (most recent call last):",
                                       "  File \"/app/x.py\", line 1, in <module>",
                                       "ValueError: bad", "next"};
  const std::vector<std::string> java = {"java.lang.X: boom", "\tat f", "next"};
  auto python_stream = maker();
  auto plain_stream = maker();
  auto none_stream = maker();
  auto unknown_stream = maker();
  auto java_stream = maker();
  EXPECT_EQ(run(*python_stream, source({{"logship.multiline", "python"}}), py, 0),
            (std::vector<std::string>{"Traceback (most recent call last):\n  File \"/app/x.py\", "
                                      "line 1, in <module>\nValueError: bad",
                                      "next"}));
  // No label: the stream's own frames choose the rule set; `none` opts out.
  EXPECT_EQ(run(*plain_stream, source(), java, 0),
            (std::vector<std::string>{"java.lang.X: boom\n\tat f", "next"}));
  EXPECT_EQ(run(*none_stream, source({{"logship.multiline", "none"}}), java, 0), java);
  EXPECT_EQ(run(*unknown_stream, source({{"logship.multiline", "cobol"}}), java, 0), java);
  EXPECT_EQ(run(*java_stream, source({{"logship.multiline", "java"}}), java, 0),
            (std::vector<std::string>{"java.lang.X: boom\n\tat f", "next"}));
  EXPECT_EQ(metric("logship_multiline_unknown_rules_total", "ml_auto"), 1);
  // A fixed rule set limited by when_label.
  auto gated = testing::bind("multiline", "ml_gated", "{rules: java, when_label: app.lang=java}");
  auto on = gated();
  auto off = gated();
  EXPECT_EQ(run(*on, source({{"app.lang", "java"}}), java, 0).size(), 2u);
  EXPECT_EQ(run(*off, source({{"app.lang", "go"}}), java, 0), java);
}

TEST(MultilineTest, BadOptionsAreConfigErrors) {
  std::string err;
  EXPECT_FALSE(testing::bind("multiline", "ml_e1", "{rules: custom}", &err));
  EXPECT_FALSE(testing::bind("multiline", "ml_e2", "{rules: custom, start: '(['}", &err));
  EXPECT_NE(err.find("does not compile"), std::string::npos) << err;
  EXPECT_FALSE(testing::bind("multiline", "ml_e3", "{rules: custom, start: x, negate: true}", &err));
  EXPECT_FALSE(testing::bind("multiline", "ml_e4", "{rules: java, start: x}", &err));
  EXPECT_FALSE(testing::bind("multiline", "ml_e5", "{rules: cobol}", &err));
  EXPECT_FALSE(testing::bind("multiline", "ml_e6", "{rules: java, max_lines: 1}", &err));
}

// ---- The checkpoint never passes a held line ------------------------------------------------

TEST(MultilineAckTest, CheckpointNeverPassesAHeldLine) {
  auto p = make("multiline", "ml_acks", "{rules: java}");
  Harness h(p.p.get());
  h.emit({"INFO a", "java.lang.X: boom", "\tat f1"}, 100);
  h.deliver();   // "INFO a" is delivered, but batch 1 still has held lines
  EXPECT_EQ(h.delivered, (std::vector<std::string>{"INFO a"}));
  EXPECT_EQ(h.committed(), std::nullopt);
  EXPECT_EQ(h.tracker->unsettled(), 1u);

  h.emit({"\tat f2"}, 200);   // the whole batch is held: nothing to deliver
  EXPECT_TRUE(h.in_output.empty());
  EXPECT_EQ(h.committed(), std::nullopt);
  EXPECT_EQ(h.tracker->unsettled(), 2u);

  h.emit({"\tat f3", "INFO b"}, 300);   // the trace ends; "INFO b" is held in turn
  ASSERT_EQ(h.in_output.size(), 1u);
  EXPECT_EQ(h.in_output[0]->acks().size(), 3u);   // its own entry plus batches 1 and 2
  EXPECT_EQ(h.committed(), std::nullopt);           // merged event not delivered yet
  h.deliver();
  EXPECT_EQ(h.committed(), 200u);   // batches 1 and 2 settle; batch 3 still holds "INFO b"

  h.flush(true);
  EXPECT_EQ(h.committed(), 200u);   // flushed but not delivered
  h.deliver();
  EXPECT_EQ(h.committed(), 300u);
  EXPECT_EQ(h.tracker->unsettled(), 0u);
  EXPECT_EQ(h.delivered, (std::vector<std::string>{
                             "INFO a", "java.lang.X: boom\n\tat f1\n\tat f2\n\tat f3", "INFO b"}));
  // Batch 1 commits as soon as the merged event carrying its last lines is delivered.
  EXPECT_EQ(h.sink.commits, (std::vector<uint64_t>{100, 200, 300}));
}

TEST(MultilineAckTest, TimeoutFlushReleasesHeldBatches) {
  auto p = make("multiline", "ml_acks_timeout", "{rules: python, flush_timeout: 1ms}");
  Harness h(p.p.get());
  h.emit({"Traceback (most recent call last):", "  File \"x.py\", line 1, in <module>"}, 10);
  h.emit({"KeyError: 'k'"}, 20);
  h.deliver();
  EXPECT_EQ(h.committed(), std::nullopt);
  auto next = p->next_flush();
  ASSERT_TRUE(next);
  while (SteadyClock::now() < *next) std::this_thread::yield();
  h.flush(false);
  h.deliver();
  EXPECT_EQ(h.committed(), 20u);
  ASSERT_EQ(h.delivered.size(), 1u);
  EXPECT_EQ(h.delivered[0],
            "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'k'");
}

TEST(MultilineAckTest, ManyBatchesRandomSplitsDeliverEveryLineExactlyOnce) {
  // Java traces of varying length between plain lines, cut into batches of every size 1..9:
  // the joined output equals the input, and every batch settles.
  std::vector<std::string> lines;
  int traces = 0;
  for (int i = 0; i < 200; ++i) {
    lines.push_back("line " + std::to_string(i));
    if (i % 3 == 0) {
      ++traces;
      lines.push_back("java.lang.E" + std::to_string(i) + ": x");
      for (int k = 0; k < i % 7; ++k) lines.push_back("\tat f" + std::to_string(k) + "()");
    }
  }
  std::string joined;
  for (const auto& l : lines) joined += l + "\n";
  for (std::size_t per = 1; per <= 9; ++per) {
    auto p = make("multiline", "ml_acks_many", "{rules: java}");
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
    std::string got;
    for (const auto& m : h.delivered) got += m + "\n";
    EXPECT_EQ(got, joined) << "per batch " << per;
    EXPECT_EQ(h.delivered.size(), lines.size() - (lines.size() - 200 - traces)) << per;
    EXPECT_EQ(h.committed(), end);
    EXPECT_EQ(h.tracker->unsettled(), 0u);
  }
}

}  // namespace
}  // namespace logship
