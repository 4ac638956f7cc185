// `logship test -c CONFIG TESTS.yaml`: unit tests for a config's processors and routes, like
// `vector test`. Each test feeds events to one input of the config, as that input would emit
// them (message, stream, source tags and labels), runs the config's real processors and routing
// with every input and output replaced (no file, socket or server is touched; the state_dir is a
// temporary one), and compares what reaches each output with what the test expects: exact field
// values, in order, conditions (`where`, the language routes and filters use), or a count (0:
// dropped).
//
//   tests:
//     - name: health checks are dropped, errors go to payments
//       input: containers
//       source: {tags: {container_name: web}, labels: {team: payments}}
//       events:
//         - 'GET /health 200'
//         - {message: '{"level":"error","msg":"boom"}', stream: stderr}
//       expect:
//         - output: archive
//           count: 0
//         - output: payments
//           where: 'level >= error'
//           events:
//             - {message: boom, labels.team: payments}
#include <simdjson.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "daemon/commands/commands.h"
#include "daemon/commands/config_args.h"
#include "daemon/core/condition/condition.h"
#include "daemon/core/dead_letter_record.h"
#include "daemon/core/rfc3339.h"
#include "daemon/pipeline/topology.h"
#include "daemon/runtime/log.h"

namespace logship::commands {
namespace {

struct InputEvent {
  std::string message;
  Stream stream = Stream::kStdout;
  int64_t time_ns = 0;
};

struct ExpectedEvent {
  std::vector<std::pair<std::string, std::string>> fields;   // field path -> value
  std::shared_ptr<const condition::Condition> where;        // may be null
};

struct Expectation {
  std::string output;
  bool has_count = false;
  std::size_t count = 0;
  bool has_events = false;
  std::vector<ExpectedEvent> events;
  std::shared_ptr<const condition::Condition> all_where;   // every event satisfies it
};

struct TestCase {
  std::string name;
  std::string input;
  std::shared_ptr<SourceInfo> source;
  std::vector<InputEvent> events;
  std::vector<Expectation> expect;
};

// What outputs received, per output: each event as its dead-letter "event" JSON object, and
// the event itself (its batch kept) for conditions.
struct CapturedEvent {
  std::string json;
  SharedBatch batch;
  std::size_t index = 0;
  const Event& event() const { return batch->events()[index]; }
};
struct Captured {
  std::mutex mu;
  std::map<std::string, std::vector<CapturedEvent>> events;
};

class ScriptedInput final : public Input {
 public:
  ScriptedInput(std::shared_ptr<SourceInfo> source, std::vector<InputEvent> events)
      : source_(std::move(source)), events_(std::move(events)) {}
  Status start(InputContext& ctx) override {
    if (!events_.empty()) {
      auto src = std::make_shared<SourceInfo>(*source_);
      src->input = ctx.name();
      stream_ = ctx.open_stream(src, false);
      BatchPtr b = stream_->new_batch(events_.size());
      uint64_t offset = 0;
      for (const InputEvent& in : events_) {
        Event& e = b->add_event();
        e.message = b->copy(in.message);
        e.stream = in.stream;
        e.time_ns = in.time_ns;
        e.offset = offset;
        offset += in.message.size() + 1;
      }
      stream_->emit(std::move(b), Position{offset, {}});
    }
    ctx.finished();
    return Status::ok();
  }
  void stop() override {
    if (stream_) stream_->flush(true);   // what multiline and the like still hold
  }

 private:
  std::shared_ptr<SourceInfo> source_;
  std::vector<InputEvent> events_;
  std::unique_ptr<StreamHandle> stream_;
};

class CaptureOutput final : public Output {
 public:
  CaptureOutput(std::string name, Captured* into) : name_(std::move(name)), into_(into) {}
  Status start(OutputContext&) override { return Status::ok(); }
  void deliver(std::span<const SharedBatch> batches, DeliverDone done) override {
    std::vector<CapturedEvent> lines;
    for (const SharedBatch& b : batches) {
      for (std::size_t i = 0; i < b->events().size(); ++i) {
        CapturedEvent c{{}, b, i};
        dead_letter::encode(c.json, name_, "", "", b->events()[i], b->source());
        lines.push_back(std::move(c));
      }
    }
    {
      std::lock_guard lock(into_->mu);
      auto& v = into_->events[name_];
      v.insert(v.end(), lines.begin(), lines.end());
    }
    done(DeliveryResult::delivered());
  }
  void stop() override {}

 private:
  std::string name_;
  Captured* into_;
};

// A field of the captured event by dotted path (labels.team), as text: strings unquoted,
// anything else as minified JSON. False when absent.
bool field_text(simdjson::dom::element event, const std::string& path, std::string* out) {
  simdjson::dom::element cur = event;
  std::size_t start = 0;
  // Keys may hold dots themselves (ECS names): try the whole rest first, then split.
  while (true) {
    simdjson::dom::object obj;
    if (cur.get(obj)) return false;
    const std::string rest = path.substr(start);
    simdjson::dom::element next;
    if (!obj[rest].get(next)) {
      cur = next;
      break;
    }
    const std::size_t dot = path.find('.', start);
    if (dot == std::string::npos || obj[path.substr(start, dot - start)].get(next)) return false;
    cur = next;
    start = dot + 1;
  }
  std::string_view s;
  if (!cur.get(s)) {
    *out = std::string(s);
  } else {
    *out = simdjson::minify(cur);
  }
  return true;
}

std::string scalar_text(const YAML::Node& n) { return n.IsNull() ? "null" : n.Scalar(); }

bool parse_tests(const std::string& path, std::vector<TestCase>* tests, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    *error = path + ": " + e.what();
    return false;
  }
  const YAML::Node list = root["tests"];
  if (!list || !list.IsSequence()) {
    *error = path + ": expected `tests:` with a list of tests";
    return false;
  }
  auto where = [&](const YAML::Node& n) {
    return path + ":" + std::to_string(n.Mark().line + 1) + ": ";
  };
  for (const YAML::Node& t : list) {
    TestCase tc;
    if (!t.IsMap() || !t["name"] || !t["input"] || !t["events"] || !t["expect"]) {
      *error = where(t) + "a test needs name, input, events and expect";
      return false;
    }
    tc.name = t["name"].Scalar();
    tc.input = t["input"].Scalar();
    tc.source = std::make_shared<SourceInfo>();
    tc.source->key = "test:" + tc.name;
    if (const YAML::Node src = t["source"]) {
      if (src["tags"] && src["tags"].IsMap()) {
        for (const auto& kv : src["tags"]) {
          tc.source->tags.push_back(Tag{kv.first.Scalar(), ValueType::kString,
                                        scalar_text(kv.second)});
        }
      }
      if (src["labels"] && src["labels"].IsMap()) {
        for (const auto& kv : src["labels"]) {
          tc.source->labels.emplace_back(kv.first.Scalar(), scalar_text(kv.second));
        }
      }
    }
    for (const YAML::Node& e : t["events"]) {
      InputEvent in;
      in.time_ns = 1767225600LL * 1000000000LL;   // 2026-01-01T00:00:00Z unless given
      if (e.IsScalar()) {
        in.message = e.Scalar();
      } else if (e.IsMap() && e["message"]) {
        in.message = e["message"].Scalar();
        if (e["stream"]) in.stream = e["stream"].Scalar() == "stderr" ? Stream::kStderr : Stream::kStdout;
        if (e["time"] && !parse_rfc3339(e["time"].Scalar(), &in.time_ns)) {
          *error = where(e) + "time: expected an RFC 3339 time";
          return false;
        }
      } else {
        *error = where(e) + "an event is a message, or a map with message (and stream, time)";
        return false;
      }
      tc.events.push_back(std::move(in));
    }
    for (const YAML::Node& x : t["expect"]) {
      Expectation ex;
      if (!x.IsMap() || !x["output"] || (!x["count"] && !x["events"] && !x["where"])) {
        *error = where(x) + "an expectation names an output and gives count, events or where";
        return false;
      }
      ex.output = x["output"].Scalar();
      auto compile = [&](const YAML::Node& n, std::shared_ptr<const condition::Condition>* out) {
        condition::CompileError ce;
        *out = condition::Condition::compile(n.Scalar(), &ce);
        if (!*out) *error = where(n) + "where: " + ce.to_string();
        return *out != nullptr;
      };
      if (x["where"] && !compile(x["where"], &ex.all_where)) return false;
      if (x["count"]) {
        ex.has_count = true;
        ex.count = x["count"].as<std::size_t>(0);
      }
      if (x["events"]) {
        ex.has_events = true;
        for (const YAML::Node& ev : x["events"]) {
          ExpectedEvent want;
          if (ev.IsMap()) {
            for (const auto& kv : ev) {
              if (kv.first.Scalar() == "where") {
                if (!compile(kv.second, &want.where)) return false;
              } else {
                want.fields.emplace_back(kv.first.Scalar(), scalar_text(kv.second));
              }
            }
          }
          ex.events.push_back(std::move(want));
        }
      }
      tc.expect.push_back(std::move(ex));
    }
    tests->push_back(std::move(tc));
  }
  return true;
}

// Runs one test through a pipeline built from `base`; returns the failures (empty: passed).
std::vector<std::string> run_test(const config::Config& base, const TestCase& tc,
                                  const std::string& state_dir) {
  std::vector<std::string> failures;
  config::Config cfg = base;
  cfg.service.state_dir = state_dir;
  bool input_found = false;
  for (auto& in : cfg.inputs) {
    const bool mine = in.name == tc.input;
    input_found |= mine;
    auto source = tc.source;
    auto events = mine ? tc.events : std::vector<InputEvent>{};
    in.make_input = [source, events] { return std::make_unique<ScriptedInput>(source, events); };
  }
  if (!input_found) return {"the config has no input named '" + tc.input + "'"};
  Captured captured;
  for (auto& out : cfg.outputs) {
    out.buffer = config::BufferOptions{};   // memory: nothing is written
    const std::string name = out.name;
    out.make_output = [name, &captured] { return std::make_unique<CaptureOutput>(name, &captured); };
  }
  for (const Expectation& ex : tc.expect) {
    bool known = false;
    for (const auto& out : cfg.outputs) known |= out.name == ex.output;
    if (!known) failures.push_back("the config has no output named '" + ex.output + "'");
  }
  if (!failures.empty()) return failures;
  {
    Topology t(cfg);
    Status s = t.start();
    if (!s.is_ok()) return {"the pipeline did not start: " + s.message()};
    t.wait_inputs_finished([] { return false; });
    if (!t.stop(std::chrono::seconds(10))) failures.push_back("the pipeline did not drain");
  }
  simdjson::dom::parser parser;
  auto shown = [&](const CapturedEvent& c) {
    simdjson::dom::element doc, event;
    if (parser.parse(c.json).get(doc) || doc["event"].get(event)) return c.json;
    return simdjson::minify(event);
  };
  for (const Expectation& ex : tc.expect) {
    const std::vector<CapturedEvent>& got = captured.events[ex.output];
    const std::string at = "output " + ex.output + ": ";
    if (ex.has_count && got.size() != ex.count) {
      failures.push_back(at + "expected " + std::to_string(ex.count) + " events, got " +
                         std::to_string(got.size()));
    }
    if (ex.all_where) {
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (!ex.all_where->matches(got[i].event(), got[i].batch->source())) {
          failures.push_back(at + "event " + std::to_string(i + 1) + " does not satisfy `" +
                             ex.all_where->text() + "`: " + shown(got[i]));
        }
      }
    }
    if (!ex.has_events) continue;
    if (got.size() != ex.events.size()) {
      failures.push_back(at + "expected " + std::to_string(ex.events.size()) + " events, got " +
                         std::to_string(got.size()));
    }
    for (std::size_t i = 0; i < got.size() && i < ex.events.size(); ++i) {
      const ExpectedEvent& want_event = ex.events[i];
      if (want_event.where &&
          !want_event.where->matches(got[i].event(), got[i].batch->source())) {
        failures.push_back(at + "event " + std::to_string(i + 1) + " does not satisfy `" +
                           want_event.where->text() + "`: " + shown(got[i]));
      }
      simdjson::dom::element doc, event;
      if (parser.parse(got[i].json).get(doc) || doc["event"].get(event)) {
        failures.push_back(at + "event " + std::to_string(i + 1) + " does not decode");
        continue;
      }
      for (const auto& [path, want] : want_event.fields) {
        std::string have;
        if (!field_text(event, path, &have)) {
          failures.push_back(at + "event " + std::to_string(i + 1) + ": field " + path +
                             " missing; the event: " + simdjson::minify(event));
        } else if (have != want) {
          failures.push_back(at + "event " + std::to_string(i + 1) + ": field " + path +
                             ": expected \"" + want + "\", got \"" + have + "\"");
        }
      }
    }
    for (std::size_t i = ex.events.size(); i < got.size(); ++i) {
      failures.push_back(at + "unexpected event " + std::to_string(i + 1) + ": " + shown(got[i]));
    }
  }
  return failures;
}

}  // namespace

int config_test(const std::vector<std::string>& args) {
  std::vector<std::string> config_args;
  std::string tests_path;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "-c" || args[i] == "--config") {
      config_args.push_back(args[i]);
      if (i + 1 < args.size()) config_args.push_back(args[++i]);
    } else if (args[i].rfind("--config=", 0) == 0) {
      config_args.push_back(args[i]);
    } else if (tests_path.empty()) {
      tests_path = args[i];
    } else {
      std::fprintf(stderr, "logship test: unexpected argument '%s'\n", args[i].c_str());
      return 2;
    }
  }
  if (tests_path.empty()) {
    std::fprintf(stderr, "usage: logship test [-c CONFIG] TESTS.yaml\n");
    return 2;
  }
  ConfigArgs ca = parse_config_args(config_args);
  if (!ca.ok) {
    std::fprintf(stderr, "logship test: %s\n", ca.error.c_str());
    return 2;
  }
  std::optional<config::Config> cfg = load_or_report(ca);
  if (!cfg) return 2;
  std::vector<TestCase> tests;
  std::string error;
  if (!parse_tests(tests_path, &tests, &error)) {
    std::fprintf(stderr, "logship test: %s\n", error.c_str());
    return 2;
  }
  log::set_level(log::Level::kWarn);   // the pipelines' start and stop lines are noise here
  char tmpl[] = "/tmp/logship-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("logship test: mkdtemp");
    return 2;
  }
  int failed = 0;
  for (std::size_t i = 0; i < tests.size(); ++i) {
    const std::string dir = std::string(tmpl) + "/" + std::to_string(i);
    const std::vector<std::string> failures = run_test(*cfg, tests[i], dir);
    if (failures.empty()) {
      std::printf("PASS  %s\n", tests[i].name.c_str());
    } else {
      ++failed;
      std::printf("FAIL  %s\n", tests[i].name.c_str());
      for (const std::string& f : failures) std::printf("      %s\n", f.c_str());
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  std::printf("%zu tests, %d failed\n", tests.size(), failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace logship::commands
