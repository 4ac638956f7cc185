// Micro-benchmarks of the parser processors and multiline reassembly, per event, on batches of
// 1024 realistic lines (built outside the timed region, as an input would build them).
//   build/bench/logship_parsers_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "daemon/registry/plugin.h"

namespace logship {
namespace {

constexpr std::size_t kBatch = 1024;

ProcessorMaker bind(std::string_view type, const std::string& yaml) {
  config::Errors errors;
  ProcessorMaker m = find_plugin(PluginKind::kProcessor, type)
                         ->bind_processor(YAML::Load(yaml), errors,
                                          PluginContext{PluginKind::kProcessor,
                                                        "bench_" + std::string(type),
                                                        std::string(type)});
  if (!m) std::abort();
  return m;
}

std::shared_ptr<const SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->key = "bench";
  return s;
}

BatchPtr make_batch(const std::shared_ptr<const SourceInfo>& src,
                    const std::vector<std::string>& lines, std::size_t offset) {
  auto b = std::make_unique<Batch>(src, kBatch, kBatch * 256);
  for (std::size_t i = 0; i < kBatch; ++i) {
    Event& e = b->add_event();
    e.message = b->copy(lines[(offset + i) % lines.size()]);
    e.stream = Stream::kStdout;
  }
  return b;
}

void run(benchmark::State& state, std::string_view type, const std::string& yaml,
         const std::vector<std::string>& lines) {
  ProcessorMaker maker = bind(type, yaml);
  auto p = maker();
  auto src = source();
  std::size_t bytes = 0, offset = 0;
  for (auto _ : state) {
    state.PauseTiming();
    BatchPtr b = make_batch(src, lines, offset);
    offset += kBatch;
    for (const Event& e : b->events()) bytes += e.message.size();
    state.ResumeTiming();
    p->process(*b);
    benchmark::DoNotOptimize(b->events().data());
    state.PauseTiming();
    b->acks().release();
    b.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

std::vector<std::string> json_lines() {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) {
    v.push_back(R"({"level":"info","seq":)" + std::to_string(1000 + i) +
                R"(,"msg":"request served","status":200,"duration_ms":12.5})");
  }
  return v;
}

void BM_Json(benchmark::State& state) { run(state, "json", "{}", json_lines()); }

void BM_JsonRich(benchmark::State& state) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) {
    v.push_back(R"({"ts":"2024-05-01T10:00:00.123Z","level":"error","logger":"shop.api.orders",)"
                R"("msg":"payment failed for order \")" + std::to_string(i) +
                R"(\"","http":{"method":"POST","path":"/api/orders","status":502},)"
                R"("tags":["payments","retry"],"attempt":3,"ok":false,"user":null})");
  }
  run(state, "json", "{}", v);
}

void BM_RegexNginx(benchmark::State& state) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) {
    v.push_back("203.0.113." + std::to_string(i) +
                R"( - - [01/May/2024:10:00:00 +0000] "GET /api/orders?id=)" + std::to_string(i) +
                R"( HTTP/1.1" 200 512 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")");
  }
  run(state, "regex", "{format: nginx}", v);
}

void BM_RegexSyslog(benchmark::State& state) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) {
    v.push_back("<38>May  1 10:00:00 web-1 sshd[" + std::to_string(2000 + i) +
                "]: Accepted publickey for deploy from 10.0.0.5 port 52144 ssh2");
  }
  run(state, "regex", "{format: syslog}", v);
}

void BM_Logfmt(benchmark::State& state) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) {
    v.push_back(R"(time=2024-05-01T10:00:00Z level=info msg="request served" path=/api/orders/)" +
                std::to_string(i) + R"( status=200 duration=12.5ms user="ann")");
  }
  run(state, "logfmt", "{auto_types: true}", v);
}

void BM_Timestamp(benchmark::State& state) {
  std::vector<std::string> v;
  for (int i = 0; i < 64; ++i) v.push_back("2024-05-01T10:00:" + std::to_string(10 + i % 50) + ".123456789+02:00");
  run(state, "timestamp", "{field: message, format: rfc3339}", v);
}

// The benchmark workload's mix: 3% of lines in 4-line Java traces, the rest ~180-byte lines.
std::vector<std::string> java_mix() {
  std::vector<std::string> v;
  const std::string filler(150, 'x');
  for (int i = 0; i < 4000; ++i) {
    if (i % 133 == 0) {
      v.push_back("java.lang.IllegalStateException: order service unavailable");
      v.push_back("\tat com.shop.orders.OrderService.place(OrderService.java:87)");
      v.push_back("\tat com.shop.api.OrderController.create(OrderController.java:42)");
      v.push_back("\tat java.base/java.lang.Thread.run(Thread.java:833)");
      i += 3;
    } else {
      v.push_back("2024-05-01T10:00:00.123Z INFO [main] c.e.Shop : request " + std::to_string(i) + " " + filler);
    }
  }
  return v;
}

void BM_MultilineJava(benchmark::State& state) { run(state, "multiline", "{rules: java}", java_mix()); }

// The same mix with the log statement Spring Boot prints in front of each trace (issue 16): a
// trace is 5 lines, statement included. `events` gets the exact events expected from it.
std::vector<std::string> java_statement_mix(std::vector<std::string>* events) {
  std::vector<std::string> v;
  const std::string filler(150, 'x');
  for (int i = 0; i < 4000; ++i) {
    if (i % 133 == 0) {
      const std::size_t first = v.size();
      v.push_back("2024-05-01T10:00:00.123Z ERROR 1 --- [nio-8080-exec-1] c.e.shop.api.OrderController"
                  "  : order " + std::to_string(i) + " failed");
      v.push_back("java.lang.IllegalStateException: order service unavailable");
      v.push_back("\tat com.shop.orders.OrderService.place(OrderService.java:87)");
      v.push_back("\tat com.shop.api.OrderController.create(OrderController.java:42)");
      v.push_back("\tat java.base/java.lang.Thread.run(Thread.java:833)");
      std::string ev = v[first];
      for (std::size_t k = first + 1; k < v.size(); ++k) ev += "\n" + v[k];
      events->push_back(ev);
      i += 4;
    } else {
      v.push_back("2024-05-01T10:00:00.123Z  INFO 1 --- [nio-8080-exec-2] c.e.Shop : request " +
                  std::to_string(i) + " " + filler);
      events->push_back(v.back());
    }
  }
  return v;
}

// Runs the lines once, in batches, through a fresh processor: are the events exactly `want`?
bool exact(const std::string& yaml, const std::vector<std::string>& lines,
           const std::vector<std::string>& want) {
  ProcessorMaker maker = logship::bind("multiline", yaml);
  auto p = maker();
  auto src = source();
  std::vector<std::string> got;
  for (std::size_t at = 0; at < lines.size(); at += kBatch) {
    auto b = std::make_unique<Batch>(src, kBatch, kBatch * 256);
    for (std::size_t i = at; i < std::min(lines.size(), at + kBatch); ++i) {
      Event& e = b->add_event();
      e.message = b->copy(lines[i]);
      e.stream = Stream::kStdout;
    }
    p->process(*b);
    for (const Event& e : b->events()) got.emplace_back(e.message);
    b->acks().release();
  }
  Batch f(src);
  p->flush(f, SteadyClock::now(), true);
  for (const Event& e : f.events()) got.emplace_back(e.message);
  f.acks().release();
  return got == want;
}

void statements(benchmark::State& state, const std::string& yaml) {
  std::vector<std::string> want;
  const auto lines = java_statement_mix(&want);
  if (!exact(yaml, lines, want)) {
    state.SkipWithError("merged events differ from the expected ones");
    return;
  }
  state.counters["exact"] = 1;
  run(state, "multiline", yaml, lines);
}

void BM_MultilineStatementsJava(benchmark::State& state) { statements(state, "{rules: java}"); }
void BM_MultilineStatementsAuto(benchmark::State& state) { statements(state, "{rules: auto}"); }

// A stream that never prints a trace (nginx access lines): rules: auto keeps watching it.
std::vector<std::string> access_lines() {
  std::vector<std::string> v;
  for (int i = 0; i < 1000; ++i) {
    v.push_back("203.0.113." + std::to_string(i % 250) +
                R"( - - [01/May/2024:10:00:00 +0000] "GET /api/orders/)" + std::to_string(i) +
                R"( HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")");
  }
  return v;
}

void BM_MultilineAccessLogJava(benchmark::State& state) {
  run(state, "multiline", "{rules: java}", access_lines());
}
void BM_MultilineAccessLogAuto(benchmark::State& state) {
  run(state, "multiline", "{rules: auto}", access_lines());
}

void BM_MultilinePython(benchmark::State& state) {
  std::vector<std::string> v;
  const std::string filler(150, 'x');
  for (int i = 0; i < 4000; ++i) {
    if (i % 133 == 0) {
      v.push_back("Traceback (most recent call last):");
      v.push_back("  File \"/app/x.py\", line 1, in <module>");
      v.push_back("    main()");
      v.push_back("ValueError: bad");
      i += 3;
    } else {
      v.push_back("[01/May/2024 10:00:00] INFO request " + std::to_string(i) + " " + filler);
    }
  }
  run(state, "multiline", "{rules: python}", v);
}

void BM_MultilineCustomRegex(benchmark::State& state) {
  run(state, "multiline", R"({rules: custom, start: '^\d{4}-\d{2}-\d{2}'})", java_mix());
}

BENCHMARK(BM_Json);
BENCHMARK(BM_JsonRich);
BENCHMARK(BM_RegexNginx);
BENCHMARK(BM_RegexSyslog);
BENCHMARK(BM_Logfmt);
BENCHMARK(BM_Timestamp);
BENCHMARK(BM_MultilineJava);
BENCHMARK(BM_MultilineStatementsJava);
BENCHMARK(BM_MultilineStatementsAuto);
BENCHMARK(BM_MultilineAccessLogJava);
BENCHMARK(BM_MultilineAccessLogAuto);
BENCHMARK(BM_MultilinePython);
BENCHMARK(BM_MultilineCustomRegex);

}  // namespace
}  // namespace logship

BENCHMARK_MAIN();
