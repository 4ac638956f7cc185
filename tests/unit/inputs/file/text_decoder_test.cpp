#include "inputs/file/text_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace logship::file {
namespace {

struct Fed {
  std::vector<std::string> messages;
  std::vector<uint64_t> offsets;
  std::vector<uint8_t> flags;
};

// Feeds `chunks` as the tailer does: the unconsumed rest is passed again with the next chunk.
Fed feed(TextDecoder& d, const std::vector<std::string>& chunks, uint64_t base = 0) {
  Fed out;
  std::string carry;
  for (const std::string& c : chunks) {
    std::string buf = carry + c;
    Batch batch(std::make_shared<SourceInfo>(), 16);
    std::size_t used = d.consume(buf.data(), buf.size(), buf.size(), base, batch, TimePoint{});
    for (const Event& e : batch.events()) {
      out.messages.emplace_back(e.message);
      out.offsets.push_back(e.offset);
      out.flags.push_back(e.flags);
    }
    carry = buf.substr(used);
    base += used;
  }
  return out;
}

TEST(TextDecoderTest, LfLinesAcrossChunksWithOffsets) {
  TextOptions o;
  TextStats st;
  TextDecoder d(o, &st);
  Fed f = feed(d, {"one\ntw", "o\r\nthr", "ee\n", "partial"});
  EXPECT_EQ(f.messages, (std::vector<std::string>{"one", "two\r", "three"}));
  EXPECT_EQ(f.offsets, (std::vector<uint64_t>{0, 4, 9}));
  EXPECT_EQ(d.safe_offset(), 15u);   // "partial" is not consumed
  EXPECT_EQ(st.lines, 3u);
}

TEST(TextDecoderTest, CrlfRemovesTheCarriageReturnOnly) {
  TextOptions o;
  o.framing = Framing::kCrlf;
  TextStats st;
  TextDecoder d(o, &st);
  Fed f = feed(d, {"a\r\nb\r", "\nc\rd\r\n\r\n"});
  EXPECT_EQ(f.messages, (std::vector<std::string>{"a", "b", "c\rd", ""}));
}

TEST(TextDecoderTest, NulFraming) {
  TextOptions o;
  o.framing = Framing::kNul;
  TextStats st;
  TextDecoder d(o, &st);
  Fed f = feed(d, {std::string("a\nb\0c", 5), std::string("\0", 1)});
  EXPECT_EQ(f.messages, (std::vector<std::string>{"a\nb", "c"}));
  EXPECT_EQ(d.terminator(), std::string_view("\0", 1));
}

TEST(TextDecoderTest, LongLineKeepsItsHeadAndCountsTheRest) {
  TextOptions o;
  o.max_line_size = 8;
  TextStats st;
  TextDecoder d(o, &st);
  // Complete within one chunk, then one spread over chunks (cut before its end is seen).
  Fed f = feed(d, {"0123456789AB\nok\n01234567", "89", "ABCDEF\nafter\n"});
  EXPECT_EQ(f.messages, (std::vector<std::string>{"01234567", "ok", "01234567", "after"}));
  EXPECT_EQ(f.flags, (std::vector<uint8_t>{kEventTruncated, 0, kEventTruncated, 0}));
  EXPECT_EQ(st.truncated, 2u);
  EXPECT_EQ(st.dropped_bytes, 4u + 8u);   // "89AB" and "89ABCDEF"
  EXPECT_EQ(d.safe_offset(), 13u + 3u + 17u + 6u);
}

// "héllo 😀\r\n" and "x\r\n" as UTF-16 of the given endianness, with a byte-order mark.
std::string utf16(bool big_endian, bool bom) {
  const std::vector<uint16_t> units = {'h', 0xE9, 'l', 'l', 'o', ' ', 0xD83D, 0xDE00, '\r', '\n',
                                       'x', '\r', '\n'};
  std::string out;
  if (bom) out += big_endian ? "\xFE\xFF" : "\xFF\xFE";
  for (uint16_t u : units) {
    const char hi = static_cast<char>(u >> 8), lo = static_cast<char>(u & 0xFF);
    out += big_endian ? std::string{hi, lo} : std::string{lo, hi};
  }
  return out;
}

TEST(TextDecoderTest, Utf16WithAByteOrderMarkAcrossOddChunkBoundaries) {
  for (bool be : {false, true}) {
    TextOptions o;
    o.encoding = Encoding::kUtf16;
    o.framing = Framing::kCrlf;
    TextStats st;
    TextDecoder d(o, &st);
    const std::string f = utf16(be, true);
    // Chunks cut inside the mark, inside a code unit and inside the surrogate pair.
    Fed got = feed(d, {f.substr(0, 1), f.substr(1, 6), f.substr(7, 8), f.substr(15)});
    EXPECT_EQ(got.messages, (std::vector<std::string>{"h\xC3\xA9llo \xF0\x9F\x98\x80", "x"})) << be;
    EXPECT_EQ(got.offsets, (std::vector<uint64_t>{2, 22})) << be;
    EXPECT_EQ(d.safe_offset(), f.size());
    EXPECT_EQ(d.terminator(), be ? std::string_view("\0\n", 2) : std::string_view("\n\0", 2));
  }
}

// Resumed past the mark: the file's first bytes (head) tell the endianness.
TEST(TextDecoderTest, Utf16ResumedFromAnOffsetTakesTheEndiannessFromTheHead) {
  TextOptions o;
  o.encoding = Encoding::kUtf16;
  TextStats st;
  TextDecoder d(o, &st);
  const std::string f = utf16(true, true);
  d.reset(22);
  d.head(f.substr(0, 16));
  Fed got = feed(d, {f.substr(22)}, 22);
  EXPECT_EQ(got.messages, (std::vector<std::string>{"x\r"}));
}

TEST(TextDecoderTest, Utf16LoneSurrogateBecomesTheReplacementCharacter) {
  TextOptions o;
  o.encoding = Encoding::kUtf16Le;
  TextStats st;
  TextDecoder d(o, &st);
  Fed got = feed(d, {std::string("a\0\x3D\xD8" "b\0\n\0", 8)});
  EXPECT_EQ(got.messages, (std::vector<std::string>{"a\xEF\xBF\xBD" "b"}));
}

TEST(TextDecoderTest, Latin1IsReencodedAndUtf8MarkDropped) {
  TextOptions o;
  o.encoding = Encoding::kLatin1;
  TextStats st;
  TextDecoder d(o, &st);
  EXPECT_EQ(feed(d, {"caf\xE9 \xFC\n"}).messages, (std::vector<std::string>{"caf\xC3\xA9 \xC3\xBC"}));
  TextOptions u;
  TextDecoder d8(u, &st);
  EXPECT_EQ(feed(d8, {"\xEF\xBB", "\xBFone\ntwo\n"}).messages,
            (std::vector<std::string>{"one", "two"}));
}

TEST(TextDecoderTest, LongUtf16LineIsCutOnACharacterBoundary) {
  TextOptions o;
  o.encoding = Encoding::kUtf16Le;
  o.max_line_size = 5;
  TextStats st;
  TextDecoder d(o, &st);
  // "ééé\n": 6 bytes of UTF-8; the cut at 5 falls inside the third 'é'.
  Fed got = feed(d, {std::string("\xE9\0\xE9\0\xE9\0\n\0", 8)});
  EXPECT_EQ(got.messages, (std::vector<std::string>{"\xC3\xA9\xC3\xA9"}));
  EXPECT_EQ(got.flags, (std::vector<uint8_t>{kEventTruncated}));
  EXPECT_EQ(st.dropped_bytes, 2u);
}

}  // namespace
}  // namespace logship::file
