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
Fed feed(TextDecoder& d, const std::vector<std::string>& chunks) {
  Fed out;
  std::string carry;
  uint64_t base = 0;
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
  EXPECT_EQ(d.terminator(), '\0');
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

}  // namespace
}  // namespace logship::file
