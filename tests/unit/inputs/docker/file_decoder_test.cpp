#include "inputs/docker/file_decoder.h"

#include <gtest/gtest.h>

#include "tests/unit/inputs/docker/docker_test_util.h"

namespace logship::docker {
namespace {

using testing::docker_line;

// Feeds `text` in reads of `step` bytes the way the tailer does (carry + new bytes in a padded
// buffer) and collects every event.
struct Feeder {
  explicit Feeder(DecoderOptions o) : opts(std::move(o)), dec(opts, &json, &stats) {}
  void feed(std::string_view text, std::size_t step) {
    for (std::size_t at = 0; at < text.size(); at += step) {
      std::string_view piece = text.substr(at, step);
      std::string buf = carry + std::string(piece);
      const std::size_t len = buf.size();
      buf.append(simdjson::SIMDJSON_PADDING, '}');
      offset += piece.size();
      auto batch = std::make_unique<Batch>(source, 16);
      std::size_t used = dec.consume(buf.data(), len, buf.size(), offset - len, *batch, now);
      carry.assign(buf.data() + used, len - used);
      take(*batch);
    }
  }
  void take(Batch& b) {
    for (const Event& e : b.events()) {
      Out o;
      o.message = std::string(e.message);
      o.stream = e.stream;
      o.time_ns = e.time_ns;
      o.offset = e.offset;
      o.flags = e.flags;
      for (const Field& f : e.fields) o.fields.emplace_back(std::string(f.key), std::string(f.value.s));
      events.push_back(std::move(o));
    }
    batches.push_back(nullptr);
  }
  void flush(bool force, TimePoint at) {
    auto batch = std::make_unique<Batch>(source, 4);
    dec.flush(*batch, at, force);
    take(*batch);
  }
  struct Out {
    std::string message;
    Stream stream;
    int64_t time_ns;
    uint64_t offset;
    uint8_t flags;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  DecoderOptions opts;
  DockerLineDecoder json;
  DecoderStats stats;
  FileDecoder dec;
  std::shared_ptr<const SourceInfo> source = std::make_shared<SourceInfo>();
  std::string carry;
  uint64_t offset = 0;
  TimePoint now = SteadyClock::now();
  std::vector<Out> events;
  std::vector<std::nullptr_t> batches;
};

// Deterministic text that exercises escaping: quotes, backslashes, tabs, '<', non-ASCII.
std::string long_message(std::size_t n, int seed) {
  static const char* kAlphabet[] = {"a", "b", "\"", "\\", "\t", "<", "&", "\xc3\xa9", " ", "7"};
  std::string s;
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  while (s.size() < n) {
    x = x * 1103515245u + 12345u;
    s += kAlphabet[(x >> 16) % 10];
  }
  // Cut back to n without splitting the 2-byte character.
  while (s.size() > n) s.pop_back();
  if (!s.empty() && static_cast<unsigned char>(s.back()) == 0xc3) s.back() = 'z';
  return s;
}

// Docker's copier cuts the container's output (message + '\n') every 16 KiB of raw bytes; the
// cuts here fall on character boundaries so the round trip is exact (a split character would
// become U+FFFD in a real json-file).
std::string as_docker_chunks(const std::string& msg, std::string_view stream, std::string_view time) {
  const std::string line = msg + "\n";
  std::string out;
  for (std::size_t at = 0; at < line.size();) {
    std::size_t n = std::min<std::size_t>(16384, line.size() - at);
    while (at + n < line.size() && (static_cast<unsigned char>(line[at + n]) & 0xc0) == 0x80) --n;
    out += docker_line(line.substr(at, n), stream, time);
    at += n;
  }
  return out;
}

TEST(FileDecoder, LinesBecomeEventsAndOffsetsAdvance) {
  Feeder f({});
  std::string a = docker_line("first\n", "stdout", "2024-05-01T10:00:00Z", R"({"tag":"api"})");
  std::string b = docker_line("second\r\n", "stderr", "2024-05-01T10:00:01.5Z");
  f.feed(a + b, 7);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].message, "first");
  EXPECT_EQ(f.events[0].offset, 0u);
  ASSERT_EQ(f.events[0].fields.size(), 1u);
  EXPECT_EQ(f.events[0].fields[0], (std::pair<std::string, std::string>("tag", "api")));
  EXPECT_EQ(f.events[1].message, "second");   // TTY "\r\n" removed too
  EXPECT_EQ(f.events[1].stream, Stream::kStderr);
  EXPECT_EQ(f.events[1].offset, a.size());
  EXPECT_EQ(f.dec.safe_offset(), a.size() + b.size());
  EXPECT_EQ(f.stats.malformed, 0u);
}

TEST(FileDecoder, IncompleteLastLineWaitsForMore) {
  Feeder f({});
  std::string a = docker_line("one\n", "stdout", "2024-05-01T10:00:00Z");
  std::string b = docker_line("two\n", "stdout", "2024-05-01T10:00:00Z");
  f.feed(a + b.substr(0, 10), 1 << 20);
  EXPECT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.carry, b.substr(0, 10));
  EXPECT_EQ(f.dec.safe_offset(), a.size());
  EXPECT_EQ(f.stats.malformed, 0u);
  f.feed(b.substr(10), 1 << 20);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[1].message, "two");
}

class PartialMerge : public ::testing::TestWithParam<std::size_t> {};

TEST_P(PartialMerge, RebuildsLongLinesByteExactly) {
  const std::size_t size = GetParam();
  Feeder f({});
  const std::string big = long_message(size, 1);
  const std::string big2 = long_message(size, 2);
  const std::string before = docker_line("before\n", "stdout", "2024-05-01T10:00:00Z");
  const std::string chunks = as_docker_chunks(big, "stdout", "2024-05-01T10:00:01.25Z");
  // The other stream interleaves between chunks in a real file; it must stay separate.
  const std::string other = docker_line("err line\n", "stderr", "2024-05-01T10:00:02Z");
  const std::string chunks2 = as_docker_chunks(big2, "stderr", "2024-05-01T10:00:03Z");
  std::size_t cut = chunks.find('\n') + 1;
  std::string text = before + chunks.substr(0, cut) + other + chunks.substr(cut) + chunks2;
  const uint64_t big_start = before.size();
  for (std::size_t step : {std::size_t(4096), std::size_t(256 << 10)}) {
    Feeder g({});
    g.feed(text, step);
    ASSERT_EQ(g.events.size(), 4u) << step;
    EXPECT_TRUE(g.events[0].message == "before");
    EXPECT_TRUE(g.events[1].message == "err line");
    EXPECT_EQ(g.events[2].message.size(), big.size());
    EXPECT_TRUE(g.events[2].message == big) << "merged line differs, size " << size;
    EXPECT_EQ(g.events[2].time_ns, 1714557601250000000);   // the first chunk's time
    EXPECT_EQ(g.events[2].offset, big_start);
    EXPECT_EQ(g.events[2].stream, Stream::kStdout);
    EXPECT_EQ(g.events[2].flags, 0);
    EXPECT_TRUE(g.events[3].message == big2);
    EXPECT_EQ(g.events[3].stream, Stream::kStderr);
    EXPECT_EQ(g.stats.malformed, 0u);
    EXPECT_EQ(g.dec.safe_offset(), text.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, PartialMerge,
                         ::testing::Values(16384, 16385, 100 * 1024, 1024 * 1024 - 1));

TEST(FileDecoder, PendingPartialHoldsTheCheckpoint) {
  Feeder f({});
  std::string a = docker_line("done\n", "stdout", "2024-05-01T10:00:00Z");
  std::string p1 = docker_line("part one ", "stdout", "2024-05-01T10:00:01Z");
  std::string e = docker_line("stderr line\n", "stderr", "2024-05-01T10:00:01Z");
  f.feed(a + p1 + e, 1 << 20);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.dec.safe_offset(), a.size());   // a restart re-reads the unfinished line
  EXPECT_TRUE(f.dec.has_pending());
  std::string p2 = docker_line("part two\n", "stdout", "2024-05-01T10:00:02Z");
  f.feed(p2, 1 << 20);
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[2].message, "part one part two");
  EXPECT_EQ(f.dec.safe_offset(), a.size() + p1.size() + e.size() + p2.size());
}

TEST(FileDecoder, DanglingPartialFlushesAfterTimeout) {
  DecoderOptions o;
  o.partial_timeout = std::chrono::milliseconds(500);
  Feeder f(o);
  std::string p = docker_line("no newline at exit", "stdout", "2024-05-01T10:00:01Z");
  f.feed(p, 1 << 20);
  EXPECT_EQ(f.events.size(), 0u);
  ASSERT_TRUE(f.dec.next_flush());
  EXPECT_EQ(*f.dec.next_flush(), f.now + std::chrono::milliseconds(500));
  f.flush(false, f.now + std::chrono::milliseconds(499));
  EXPECT_EQ(f.events.size(), 0u);
  f.flush(false, f.now + std::chrono::milliseconds(500));
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].message, "no newline at exit");
  EXPECT_EQ(f.dec.safe_offset(), p.size());
  EXPECT_FALSE(f.dec.next_flush());
}

TEST(FileDecoder, MaxLineSizeTruncatesAndDropsTheRest) {
  DecoderOptions o;
  o.max_line_size = 100 * 1024;
  Feeder f(o);
  const std::string big = long_message(1 << 20, 3);
  std::string text = as_docker_chunks(big, "stdout", "2024-05-01T10:00:00Z") +
                     docker_line("after\n", "stdout", "2024-05-01T10:00:09Z");
  f.feed(text, 65536);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_TRUE(f.events[0].message == big.substr(0, 100 * 1024));
  EXPECT_EQ(f.events[0].flags, kEventTruncated);
  EXPECT_EQ(f.stats.truncated, 1u);
  EXPECT_EQ(f.stats.dropped_bytes, big.size() - 100 * 1024);
  EXPECT_EQ(f.events[1].message, "after");
  EXPECT_EQ(f.events[1].flags, 0);
}

TEST(FileDecoder, MalformedLinesPassRawAndAreCounted) {
  Feeder f({});
  std::string good = docker_line("ok\n", "stdout", "2024-05-01T10:00:00Z");
  std::string text = good + "not json at all\n" + "{\"log\":\"cut by a cra\n" +
                     std::string("\x00\x00\x00", 3) + good +   // copytruncate hole: NULs skipped
                     std::string("\x89PNG\x1a\xff\xfe\x01\n", 9) + "\n" + good;
  f.feed(text, 5);
  ASSERT_EQ(f.events.size(), 6u);
  EXPECT_EQ(f.events[0].message, "ok");
  EXPECT_EQ(f.events[1].message, "not json at all");
  EXPECT_EQ(f.events[1].flags, kEventMalformed);
  EXPECT_EQ(f.events[2].message, "{\"log\":\"cut by a cra");
  EXPECT_EQ(f.events[2].flags, kEventMalformed);
  EXPECT_EQ(f.events[3].message, "ok");
  EXPECT_EQ(f.events[4].message, std::string("\x89PNG\x1a\xff\xfe\x01", 8));
  EXPECT_EQ(f.events[4].flags, kEventMalformed);
  EXPECT_EQ(f.events[5].message, "ok");
  EXPECT_EQ(f.stats.malformed, 3u);
  EXPECT_EQ(f.stats.by_error[static_cast<int>(LineError::kBadJson)], 3u);
  EXPECT_EQ(f.dec.safe_offset(), text.size());
}

TEST(FileDecoder, SkipModeDropsMalformedButCountsThem) {
  DecoderOptions o;
  o.skip_malformed = true;
  Feeder f(o);
  std::string good = docker_line("ok\n", "stdout", "2024-05-01T10:00:00Z");
  f.feed(good + "garbage\n" + R"({"log":"x\n","stream":"stdout","time":"bad"})" "\n" + good, 1 << 20);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.stats.malformed, 2u);
  EXPECT_EQ(f.stats.by_error[static_cast<int>(LineError::kBadTime)], 1u);
}

TEST(FileDecoder, OversizedGarbageWithoutNewlineIsSkippedToItsEnd) {
  DecoderOptions o;
  o.max_line_size = 4096;
  Feeder f(o);
  std::string junk(o.max_line_size + (128 << 10) + 5000, 'j');
  std::string good = docker_line("ok\n", "stdout", "2024-05-01T10:00:00Z");
  f.feed(junk + "tail of junk\n" + good, 65536);
  ASSERT_EQ(f.events.size(), 2u);
  EXPECT_EQ(f.events[0].flags, kEventMalformed | kEventTruncated);
  EXPECT_EQ(f.events[0].message.size(), 4096u);
  EXPECT_EQ(f.events[1].message, "ok");
  EXPECT_EQ(f.stats.malformed, 1u);
  EXPECT_LE(f.carry.size(), good.size());
}

TEST(FileDecoder, CriPartialsMerge) {
  DecoderOptions o;
  o.format = LogFormat::kCri;
  Feeder f(o);
  const std::string big = long_message(100 * 1024, 4);
  std::string text = "2024-05-01T12:00:00.5+02:00 stdout F short one\n";
  for (std::size_t at = 0; at < big.size(); at += 16384) {
    bool last = at + 16384 >= big.size();
    text += std::string("2024-05-01T12:00:01+02:00 stderr ") + (last ? "F " : "P ") +
            big.substr(at, 16384) + "\n";
    if (at == 0) text += "2024-05-01T12:00:01+02:00 stdout F between\n";
  }
  f.feed(text, 10000);
  ASSERT_EQ(f.events.size(), 3u);
  EXPECT_EQ(f.events[0].message, "short one");
  EXPECT_EQ(f.events[0].time_ns, 1714557600500000000);
  EXPECT_EQ(f.events[1].message, "between");
  EXPECT_TRUE(f.events[2].message == big);
  EXPECT_EQ(f.events[2].stream, Stream::kStderr);
  EXPECT_EQ(f.stats.malformed, 0u);
}

}  // namespace
}  // namespace logship::docker

namespace logship::docker {
namespace {

TEST(FileDecoder, PartialMergeIsChargedAndLetGo) {
  MemoryBudget& budget = MemoryBudget::global();
  const int64_t before = budget.held(MemoryPart::kPartialLines);
  {
    Feeder f({});
    const std::string chunk(16 * 1024, 'p');
    f.feed(docker_line(chunk, "stdout", "2024-05-01T10:00:01Z") +
               docker_line(chunk, "stdout", "2024-05-01T10:00:01Z"),
           1 << 20);
    EXPECT_EQ(f.events.size(), 0u);
    EXPECT_GE(budget.held(MemoryPart::kPartialLines) - before, 32 * 1024);
    f.feed(docker_line("end\n", "stdout", "2024-05-01T10:00:02Z"), 1 << 20);
    ASSERT_EQ(f.events.size(), 1u);
    EXPECT_EQ(f.events[0].message.size(), 32 * 1024 + 3);
    EXPECT_EQ(budget.held(MemoryPart::kPartialLines), before);
  }
  EXPECT_EQ(budget.held(MemoryPart::kPartialLines), before);
}

}  // namespace
}  // namespace logship::docker
