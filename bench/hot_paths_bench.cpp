// Google Benchmark micro-benchmarks of the per-event hot paths: Docker line decode, event JSON
// encoding (file/stdout outputs), gzip of a segment, RFC 5424 encoding, _bulk encoding, OTLP
// request encoding, the http output's Splunk HEC and Loki request encoding.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "daemon/core/batch.h"
#include "daemon/core/json_writer.h"
#include "inputs/docker/line_decoder.h"
#include "daemon/core/dead_letter_record.h"
#include "outputs/elasticsearch/bulk_encoder.h"
#include "outputs/http/loki_encoder.h"
#include "outputs/http/splunk_hec_encoder.h"
#include "outputs/otlp/otlp_encoder.h"
#include "outputs/elasticsearch/sigv4.h"
#include "outputs/syslog/syslog_encoder.h"

namespace {

using namespace logship;

const std::string kMessage =
    "r=3-12345 GET /api/v1/orders status=200 latency_ms=12 upstream=10.0.0.7:8080 ua=Mozilla/5.0 "
    "user_id=42 cart=7 cache=miss ok retry GET /api/v1/users status=404 latency_ms=3 /healthz ok";

std::shared_ptr<SourceInfo> source() {
  auto s = std::make_shared<SourceInfo>();
  s->input = "docker";
  s->key = "docker:2049:1234";
  s->tags = {{"container_id", ValueType::kString, std::string(64, 'a')},
             {"container_name", ValueType::kString, "shop-api-1"},
             {"image", ValueType::kString, "shop/api:1.4"}};
  s->labels = {{"com.docker.compose.service", "api"}};
  return s;
}

std::unique_ptr<Batch> batch_of(int n) {
  auto b = std::make_unique<Batch>(source(), n);
  for (int i = 0; i < n; ++i) {
    Event& e = b->add_event();
    e.time_ns = 1714557600123456789LL + i;
    e.stream = Stream::kStdout;
    e.offset = static_cast<uint64_t>(i) * 200;
    e.message = b->copy(kMessage);
  }
  return b;
}

void BM_DockerLineDecode(benchmark::State& state) {
  std::string line = "{\"log\":\"" + kMessage + "\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T10:00:00.123456789Z\"}";
  std::string padded = line + std::string(simdjson::SIMDJSON_PADDING, ' ');
  docker::DockerLineDecoder decoder;
  docker::DecodedLine out;
  for (auto _ : state) {
    auto err = decoder.decode(std::string_view(padded.data(), line.size()), padded.size(), &out);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(out.message.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}
BENCHMARK(BM_DockerLineDecode);

void BM_EventJsonEncode(benchmark::State& state) {
  auto b = batch_of(1024);
  std::string out;
  out.reserve(1 << 20);
  for (auto _ : state) {
    out.clear();
    for (const Event& e : b->events()) {
      json::append_event(out, e, b->source());
      out.push_back('\n');
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EventJsonEncode);

void BM_GzipSegment(benchmark::State& state) {
  auto b = batch_of(4096);
  std::string in;
  for (const Event& e : b->events()) {
    json::append_event(in, e, b->source());
    in.push_back('\n');
  }
  std::vector<unsigned char> out(compressBound(in.size()) + 64);
  for (auto _ : state) {
    z_stream z{};
    deflateInit2(&z, static_cast<int>(state.range(0)), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    benchmark::DoNotOptimize(z.total_out);
    deflateEnd(&z);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_GzipSegment)->Arg(1)->Arg(6);

void BM_Syslog5424Encode(benchmark::State& state) {
  auto b = batch_of(1024);
  syslog::EncoderSettings s;
  s.hostname = "node-1";
  syslog::Encoder enc(s);
  std::string out;
  out.reserve(1 << 20);
  for (auto _ : state) {
    out.clear();
    for (const Event& e : b->events()) enc.encode(out, e, b->source());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_Syslog5424Encode);

// Arg: 0 the logship layout, 1 ecs, 2 ecs with three parsed JSON app fields per event.
void BM_BulkEncode(benchmark::State& state) {
  auto b = batch_of(1024);
  if (state.range(0) == 2) {
    for (Event& e : b->events()) {
      e.fields.push_back(Field{"level", Value::string("info")});
      e.fields.push_back(Field{"trace.id", Value::string("4bf92f3577b34da6")});
      e.fields.push_back(Field{"user_id", Value::integer(42)});
    }
  }
  plugins::es::BulkEncoderOptions o;
  o.index = "logs-{container_name}-%Y.%m.%d";
  o.deterministic_ids = true;
  plugins::doc::DocumentOptions d(state.range(0) == 0 ? "logship" : "ecs");
  plugins::es::BulkEncoder enc(o, d, HostIdentity{"node-1", "", ""});
  std::string out;
  out.reserve(1 << 20);
  for (auto _ : state) {
    out.clear();
    enc.begin_source(b->source());
    for (const Event& e : b->events()) enc.append(out, e, b->source());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_BulkEncode)->Arg(0)->Arg(1)->Arg(2);

// OTLP ExportLogsServiceRequest of 1024 records, as BM_BulkEncode's batch. Arg: 0 protobuf,
// 1 protobuf with the three parsed JSON fields per event (level -> severity), 2 OTLP/JSON,
// 3 protobuf with a map body and a nested JSON field.
void BM_OtlpEncode(benchmark::State& state) {
  auto b = batch_of(1024);
  if (state.range(0) == 1 || state.range(0) == 3) {
    for (Event& e : b->events()) {
      e.fields.push_back(Field{"level", Value::string("info")});
      e.fields.push_back(Field{"trace.id", Value::string("4bf92f3577b34da6")});
      e.fields.push_back(Field{"user_id", Value::integer(42)});
      if (state.range(0) == 3) e.fields.push_back(Field{"req", Value::raw_json(R"({"path":"/api","ms":12})")});
    }
  }
  plugins::otlp::EncoderOptions o;
  o.json = state.range(0) == 2;
  o.map_body = state.range(0) == 3;
  o.host = HostIdentity{"node-1", "", ""};
  o.resource_labels = {"*"};
  plugins::otlp::Encoder enc(o);
  const plugins::otlp::Slice slice{b.get(), 0, static_cast<uint32_t>(b->size())};
  std::string out;
  out.reserve(1 << 20);
  for (auto _ : state) {
    enc.encode(std::span<const plugins::otlp::Slice>(&slice, 1), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_OtlpEncode)->Arg(0)->Arg(1)->Arg(2)->Arg(3);
// Heap allocations of this process, so that an encoder benchmark can report how many one
// request takes once its buffers are grown (0: none per event).
std::atomic<uint64_t> g_allocations{0};

// Splunk HEC events body of 1024 events. Arg: 0 message only, 1 with three parsed fields and
// sourcetype/index read from fields. Reports heap allocations per request.
void BM_SplunkHecEncode(benchmark::State& state) {
  auto b = batch_of(1024);
  if (state.range(0) == 1) {
    for (Event& e : b->events()) {
      e.fields.push_back(Field{"level", Value::string("info")});
      e.fields.push_back(Field{"user_id", Value::integer(42)});
      e.fields.push_back(Field{"sourcetype", Value::string("access_combined")});
    }
  }
  plugins::httpout::SplunkHecOptions o;
  o.host = "node-1";
  o.index = "main";
  plugins::httpout::SplunkHecEncoder enc(o);
  const plugins::httpbatch::Slice slice{b.get(), 0, static_cast<uint32_t>(b->size())};
  std::string out;
  enc.encode(std::span(&slice, 1), out);   // grows the buffers
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    enc.encode(std::span(&slice, 1), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["allocs_per_request"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_SplunkHecEncode)->Arg(0)->Arg(1);

// Loki push body of 1024 events from 8 containers (labels container_name, stream, static job),
// times out of order within each. Arg: 0 protobuf + snappy, 1 JSON.
void BM_LokiEncode(benchmark::State& state) {
  std::vector<std::unique_ptr<Batch>> batches;
  std::vector<plugins::httpbatch::Slice> slices;
  for (int c = 0; c < 8; ++c) {
    auto src = source();
    auto own = std::make_shared<SourceInfo>(*src);
    own->tags = {{"container_name", ValueType::kString, "app-" + std::to_string(c)}};
    auto b = std::make_unique<Batch>(own, 128);
    for (int i = 0; i < 128; ++i) {
      Event& e = b->add_event();
      e.time_ns = 1714557600123456789LL + (i ^ 1);
      e.stream = i % 7 == 0 ? Stream::kStderr : Stream::kStdout;
      e.message = b->copy(kMessage);
    }
    slices.push_back({b.get(), 0, 128});
    batches.push_back(std::move(b));
  }
  plugins::httpout::LokiOptions o;
  o.protobuf = state.range(0) == 0;
  o.label_fields = {"container_name", "stream"};
  o.static_labels = {{"job", "logship"}};
  plugins::httpout::LokiEncoder enc(o);
  std::string out;
  enc.encode(slices, out);   // grows the buffers
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    enc.encode(slices, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["allocs_per_request"] = benchmark::Counter(
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations()));
  state.SetItemsProcessed(state.iterations() * 1024);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_LokiEncode)->Arg(0)->Arg(1);

// aws_sigv4: the payload hash and the signature of one bulk request of Arg KiB (as sent, after
// gzip): what signing adds per request.
void BM_SigV4SignRequest(benchmark::State& state) {
  std::string body(static_cast<std::size_t>(state.range(0)) << 10, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 131 + (i >> 7));
  const plugins::es::AwsCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  for (auto _ : state) {
    const std::string hash = plugins::es::sha256_hex(body);
    plugins::es::SigV4Request r;
    r.method = "POST";
    r.target = "/_bulk?filter_path=errors,items.*.status,items.*.error";
    r.headers = {{"host", "search-x.eu-west-1.es.amazonaws.com:443"},
                 {"x-amz-date", "20260101T000000Z"}, {"x-amz-content-sha256", hash}};
    r.payload_sha256 = hash;
    auto sig = plugins::es::sigv4_sign(r, creds, "eu-west-1", "es", "20260101T000000Z");
    benchmark::DoNotOptimize(sig.authorization.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_SigV4SignRequest)->Arg(1)->Arg(1024);

// A dead letter: the line written per event (the event, its source and meta).
void BM_DeadLetterEncode(benchmark::State& state) {
  auto b = batch_of(1024);
  std::string line;
  line.reserve(4096);
  for (auto _ : state) {
    for (const Event& e : b->events()) {
      line.clear();
      dead_letter::encode(line, "es", "rejected", "status 400: mapper_parsing_exception", e,
                          b->source());
      benchmark::DoNotOptimize(line.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * 1024);
}
BENCHMARK(BM_DeadLetterEncode);

}  // namespace

BENCHMARK_MAIN();

// Counts every allocation of the benchmark process (g_allocations above).
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
