#include "inputs/docker_plugin/frame.h"

#include <gtest/gtest.h>

#include <random>


namespace logship::docker_plugin {
namespace {

// formats.md §3.3, bytes checked there with `protoc --encode`.
const std::string kExample = std::string("\x00\x00\x00\x19", 4) + "\x0a\x06stdout" +
                             "\x10\x95\x9a\x97\xec\xe3\x9f\xe7\xcb\x17" + "\x1a\x05hello";

TEST(FrameTest, DecodesTheFormatsExampleByteExactly) {
  ASSERT_EQ(kExample.size(), 4u + 0x19);
  FrameReader r(1 << 20);
  r.feed(kExample.data(), kExample.size());
  std::string_view payload;
  ASSERT_EQ(r.next(&payload), FrameReader::Next::kFrame);
  LogEntryView e;
  ASSERT_TRUE(decode_log_entry(payload, &e).is_ok());
  EXPECT_EQ(e.source, "stdout");
  EXPECT_EQ(e.time_nano, 1700000000123456789);
  EXPECT_EQ(e.line, "hello");
  EXPECT_FALSE(e.partial);
  EXPECT_FALSE(e.has_partial_meta);
  EXPECT_EQ(r.next(&payload), FrameReader::Next::kNeedMore);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FrameTest, EncodesTheFormatsExampleByteExactly) {
  LogEntryView e;
  e.source = "stdout";
  e.time_nano = 1700000000123456789;
  e.line = "hello";
  std::string out;
  append_frame(out, e);
  EXPECT_EQ(out, kExample);
}

TEST(FrameTest, FramesSplitAcrossOneByteReads) {
  std::string stream = kExample + kExample + kExample;
  FrameReader r(1 << 20);
  int frames = 0;
  for (char c : stream) {
    r.feed(&c, 1);
    std::string_view p;
    while (r.next(&p) == FrameReader::Next::kFrame) {
      LogEntryView e;
      ASSERT_TRUE(decode_log_entry(p, &e).is_ok());
      EXPECT_EQ(e.line, "hello");
      ++frames;
    }
  }
  EXPECT_EQ(frames, 3);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(FrameTest, PartialMetadataRoundTrips) {
  LogEntryView e;
  e.source = "stderr";
  e.time_nano = 42;
  e.line = std::string_view("chunk\0with nul", 14);
  e.partial = true;
  e.has_partial_meta = true;
  e.last = true;
  e.partial_id = "0123abcd";
  e.ordinal = 7;
  std::string bytes;
  encode_log_entry(bytes, e);
  LogEntryView d;
  ASSERT_TRUE(decode_log_entry(bytes, &d).is_ok());
  EXPECT_EQ(d.source, "stderr");
  EXPECT_EQ(d.time_nano, 42);
  EXPECT_EQ(d.line, e.line);
  EXPECT_TRUE(d.partial);
  EXPECT_TRUE(d.has_partial_meta);
  EXPECT_TRUE(d.last);
  EXPECT_EQ(d.partial_id, "0123abcd");
  EXPECT_EQ(d.ordinal, 7);
  // The exact bytes: partial=4 varint 1, metadata = 5 {last=1, id=2, ordinal=3}.
  EXPECT_NE(bytes.find(std::string("\x20\x01\x2a\x0e\x08\x01\x12\x08" "0123abcd\x18\x07")),
            std::string::npos);
}

TEST(FrameTest, NegativeOrdinalUsesTenByteVarint) {
  LogEntryView e;
  e.has_partial_meta = true;
  e.ordinal = -1;
  std::string bytes;
  encode_log_entry(bytes, e);
  EXPECT_EQ(bytes, std::string("\x2a\x0b\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));
  LogEntryView d;
  ASSERT_TRUE(decode_log_entry(bytes, &d).is_ok());
  EXPECT_EQ(d.ordinal, -1);
}

TEST(FrameTest, SkipsUnknownFieldsOfEveryWireType) {
  std::string b = "\x1a\x02hi";
  b += std::string("\x32\x03\x0a\x01k", 5);                 // attrs (6), length-delimited
  b += std::string("\x38\x96\x01", 3);                       // field 7, varint
  b += std::string("\x41", 1) + std::string(8, '\x01');      // field 8, fixed64
  b += std::string("\x4d", 1) + std::string(4, '\x02');      // field 9, fixed32
  b += std::string("\x2a\x04\x20\x05\x08\x01", 6);           // metadata: unknown 4, last=1
  LogEntryView e;
  ASSERT_TRUE(decode_log_entry(b, &e).is_ok());
  EXPECT_EQ(e.line, "hi");
  EXPECT_TRUE(e.has_partial_meta);
  EXPECT_TRUE(e.last);
}

TEST(FrameTest, RejectsMalformedEntriesWithAReason) {
  LogEntryView e;
  EXPECT_EQ(decode_log_entry(std::string("\x1a\x05hi", 4), &e).message(),
               "field length past end of entry");
  EXPECT_EQ(decode_log_entry(std::string("\x10\x95\x9a", 3), &e).message(), "truncated varint");
  EXPECT_EQ(decode_log_entry(std::string("\x0f\x00", 2), &e).message(),
               "wrong wire type for a known field");
  EXPECT_EQ(decode_log_entry(std::string("\x4f\x00", 2), &e).message(), "invalid wire type");
  EXPECT_EQ(decode_log_entry(std::string("\x02\x00", 2), &e).message(), "field number 0");
  EXPECT_EQ(decode_log_entry(std::string("\x41\x01\x02", 3), &e).message(), "truncated fixed64");
  EXPECT_EQ(decode_log_entry(std::string(11, '\xff'), &e).message(), "truncated key");
  EXPECT_EQ(decode_log_entry(std::string("\x2a\x02\x12\x05", 4), &e).message(),
               "field length past end of entry");
  EXPECT_TRUE(decode_log_entry("", &e).is_ok());   // all defaults: an empty stdout line
}

TEST(FrameTest, OversizeFrameIsSkippedAcrossReadsAndTheStreamStaysInStep) {
  FrameReader r(16);
  const std::string stream = std::string("\x00\x00\x01\x00", 4) + std::string(256, 'x') +
                             std::string("\x00\x00\x00\x07", 4) + "\x1a\x05hello";
  std::string_view p;
  uint64_t size = 0;
  r.feed(stream.data(), 10);
  EXPECT_EQ(r.next(&p, &size), FrameReader::Next::kOversize);
  EXPECT_EQ(size, 256u);
  EXPECT_TRUE(r.skipping());
  EXPECT_EQ(r.next(&p), FrameReader::Next::kNeedMore);
  EXPECT_EQ(r.buffered(), 0u);   // skipped bytes are never held
  r.feed(stream.data() + 10, stream.size() - 10);
  EXPECT_FALSE(r.skipping());
  ASSERT_EQ(r.next(&p), FrameReader::Next::kFrame);
  LogEntryView e;
  ASSERT_TRUE(decode_log_entry(p, &e).is_ok());
  EXPECT_EQ(e.line, "hello");
}

TEST(FrameTest, ExactlyAtTheCapIsAccepted) {
  FrameReader r(7);
  std::string s = std::string("\x00\x00\x00\x07", 4) + "\x1a\x05hello";
  r.feed(s.data(), s.size());
  std::string_view p;
  EXPECT_EQ(r.next(&p), FrameReader::Next::kFrame);
}

TEST(FrameTest, TruncatedFrameStaysBuffered) {
  FrameReader r(1 << 20);
  r.feed(kExample.data(), kExample.size() - 3);
  std::string_view p;
  EXPECT_EQ(r.next(&p), FrameReader::Next::kNeedMore);
  EXPECT_EQ(r.buffered(), kExample.size() - 3);
}

TEST(FrameTest, RandomInputNeverCrashesAndRandomEntriesRoundTrip) {
  std::mt19937_64 rng(8);
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    LogEntryView e;
    (void)decode_log_entry(junk, &e);
    FrameReader r(32);
    r.feed(junk.data(), junk.size());
    std::string_view p;
    uint64_t size;
    for (int k = 0; k < 64 && r.next(&p, &size) != FrameReader::Next::kNeedMore; ++k) {
    }
  }
  for (int i = 0; i < 2000; ++i) {
    std::string line(rng() % 100, '\0'), id(rng() % 20, 'a');
    for (char& c : line) c = static_cast<char>(rng());
    LogEntryView e;
    e.source = (rng() & 1) ? "stdout" : "stderr";
    e.time_nano = static_cast<int64_t>(rng());
    e.line = line;
    e.partial = rng() & 1;
    e.has_partial_meta = rng() & 1;
    e.last = e.has_partial_meta && (rng() & 1);
    if (e.has_partial_meta) e.partial_id = id;
    e.ordinal = e.has_partial_meta ? static_cast<int32_t>(rng()) : 0;
    std::string bytes;
    append_frame(bytes, e);
    FrameReader r(1 << 20);
    r.feed(bytes.data(), bytes.size());
    std::string_view p;
    ASSERT_EQ(r.next(&p), FrameReader::Next::kFrame);
    LogEntryView d;
    ASSERT_TRUE(decode_log_entry(p, &d).is_ok());
    EXPECT_EQ(d.source, e.source);
    EXPECT_EQ(d.time_nano, e.time_nano);
    EXPECT_EQ(d.line, e.line);
    EXPECT_EQ(d.partial, e.partial);
    EXPECT_EQ(d.has_partial_meta, e.has_partial_meta);
    EXPECT_EQ(d.last, e.last);
    EXPECT_EQ(d.partial_id, e.partial_id);
    EXPECT_EQ(d.ordinal, e.ordinal);
  }
}

}  // namespace
}  // namespace logship::docker_plugin
