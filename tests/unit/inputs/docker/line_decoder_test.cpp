#include "inputs/docker/line_decoder.h"

#include <gtest/gtest.h>

#include "tests/unit/inputs/docker/docker_test_util.h"

namespace logship::docker {
namespace {

using testing::docker_line;
using testing::Padded;

constexpr int64_t kBase = 1714557600;   // 2024-05-01T10:00:00Z

LineError decode(DockerLineDecoder& d, std::string_view line, DecodedLine* out) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  Padded p(line);
  return d.decode(std::string_view(p.data(), line.size()), p.capacity(), out);
}

TEST(DockerLineDecoder, DecodesMessageStreamTimeByteExactly) {
  DockerLineDecoder d;
  DecodedLine out;
  ASSERT_EQ(decode(d, R"({"log":"GET /healthz 200\n","stream":"stdout","time":"2024-05-01T10:00:00.1234Z"})", &out),
            LineError::kNone);
  EXPECT_EQ(out.message, "GET /healthz 200\n");
  EXPECT_EQ(out.stream, Stream::kStdout);
  EXPECT_EQ(out.time_ns, kBase * 1000000000 + 123400000);
  EXPECT_FALSE(out.partial);
  EXPECT_TRUE(out.attrs.empty());
}

TEST(DockerLineDecoder, EveryFractionWidthFromZeroToNine) {
  DockerLineDecoder d;
  DecodedLine out;
  const std::string digits = "123456789";
  const int64_t expected[] = {0, 100000000, 120000000, 123000000, 123400000, 123450000,
                              123456000, 123456700, 123456780, 123456789};
  for (int n = 0; n <= 9; ++n) {
    std::string t = "2024-05-01T10:00:00" + (n ? "." + digits.substr(0, n) : "") + "Z";
    ASSERT_EQ(decode(d, docker_line("x\n", "stderr", t), &out), LineError::kNone) << t;
    EXPECT_EQ(out.time_ns, kBase * 1000000000 + expected[n]) << t;
    EXPECT_EQ(out.stream, Stream::kStderr);
  }
}

TEST(DockerLineDecoder, EscapesAndNulAreDecodedExactly) {
  DockerLineDecoder d;
  DecodedLine out;
  std::string msg = std::string("a\"b\\c<>&\ttab \xc3\xa9 \xe2\x80\xa8 ") + '\0' + "nul\x01\r\n";
  std::string line = docker_line(msg, "stdout", "2024-05-01T10:00:00Z");
  ASSERT_NE(line.find("\\u0000"), std::string::npos);
  ASSERT_NE(line.find("\\u003c"), std::string::npos);
  ASSERT_EQ(decode(d, line, &out), LineError::kNone);
  EXPECT_EQ(out.message, msg);
  EXPECT_EQ(out.message.size(), msg.size());
  // A literal U+2028 escape as Go writes it.
  ASSERT_EQ(decode(d, R"({"log":"x\u2028y\ufffd\n","stream":"stdout","time":"2024-05-01T10:00:00Z"})", &out),
            LineError::kNone);
  EXPECT_EQ(out.message, "x\xe2\x80\xa8y\xef\xbf\xbd\n");
}

TEST(DockerLineDecoder, AttrsBecomePairs) {
  DockerLineDecoder d;
  DecodedLine out;
  ASSERT_EQ(decode(d, docker_line("boom\n", "stderr", "2024-05-01T10:00:01Z",
                                  R"({"com.docker.compose.service":"api","tag":"a\"pi"})"),
                   &out),
            LineError::kNone);
  ASSERT_EQ(out.attrs.size(), 2u);
  EXPECT_EQ(out.attrs[0].first, "com.docker.compose.service");
  EXPECT_EQ(out.attrs[0].second, "api");
  EXPECT_EQ(out.attrs[1].first, "tag");
  EXPECT_EQ(out.attrs[1].second, "a\"pi");
  EXPECT_EQ(out.message, "boom\n");   // views stay valid together
}

TEST(DockerLineDecoder, PartialIsALogWithoutNewline) {
  DockerLineDecoder d;
  DecodedLine out;
  ASSERT_EQ(decode(d, docker_line("chunk", "stdout", "2024-05-01T10:00:00Z"), &out), LineError::kNone);
  EXPECT_TRUE(out.partial);
  EXPECT_EQ(out.message, "chunk");
}

TEST(DockerLineDecoder, UnknownKeysAreSkipped) {
  DockerLineDecoder d;
  DecodedLine out;
  ASSERT_EQ(decode(d, R"({"log":"a\n","extra":{"x":[1,2]},"stream":"stdout","time":"2024-05-01T10:00:00Z"})", &out),
            LineError::kNone);
  EXPECT_EQ(out.message, "a\n");
}

TEST(DockerLineDecoder, InvalidInputsGetTheirError) {
  DockerLineDecoder d;
  DecodedLine out;
  const std::string t = R"("time":"2024-05-01T10:00:00Z")";
  struct Case {
    std::string line;
    LineError want;
  } cases[] = {
      {"hello world", LineError::kBadJson},
      {"", LineError::kBadJson},
      {"[1,2,3]", LineError::kBadJson},
      {R"({"log":"cut by a cra)", LineError::kBadJson},
      {R"({"log":"a\n","stream":"stdout",)" + t, LineError::kBadJson},          // no closing brace
      {R"({"log":"a\n","stream":"stdout",)" + t + "} trailing", LineError::kBadJson},
      {R"({"log":"a\n","stream":"stdout",)" + t + "}{}", LineError::kBadJson},
      {"{\"log\":\"bad \xff\xfe utf8\\n\",\"stream\":\"stdout\"," + t + "}", LineError::kBadJson},
      {std::string("\x00\x01\x02\x89PNG\x1a", 9), LineError::kBadJson},
      {R"({"stream":"stdout",)" + t + "}", LineError::kMissingLog},
      {R"({"log":42,"stream":"stdout",)" + t + "}", LineError::kMissingLog},
      {R"({"log":"a\n","stream":"stdin",)" + t + "}", LineError::kBadStream},
      {R"({"log":"a\n","stream":"stdout","time":"yesterday"})", LineError::kBadTime},
      {R"({"log":"a\n","stream":"stdout","time":"2024-05-01T10:00:00.1234567891Z"})", LineError::kBadTime},
      {R"({"log":"a\n","stream":"stdout","time":"2024-05-01T10:00:00"})", LineError::kBadTime},
      {R"({"log":"a\n","stream":"stdout"})", LineError::kBadTime},
      {R"({"log":"a\n","stream":"stdout","attrs":[1],)" + t + "}", LineError::kBadAttrs},
      {R"({"log":"a\n","stream":"stdout","attrs":{"k":1},)" + t + "}", LineError::kBadAttrs},
  };
  for (const auto& c : cases) {
    Padded p(c.line);
    EXPECT_EQ(d.decode(std::string_view(p.data(), c.line.size()), p.capacity(), &out), c.want)
        << line_error_name(c.want) << ": " << c.line;
  }
  // The decoder is reusable after errors.
  ASSERT_EQ(decode(d, docker_line("ok\n", "stdout", "2024-05-01T10:00:00Z"), &out), LineError::kNone);
  EXPECT_EQ(out.message, "ok\n");
}

TEST(Rfc3339, OffsetsAndEdges) {
  int64_t ns = 0;
  ASSERT_TRUE(parse_rfc3339_ns("2024-05-01T12:00:00.123456789+02:00", &ns));
  EXPECT_EQ(ns, kBase * 1000000000 + 123456789);
  ASSERT_TRUE(parse_rfc3339_ns("2024-05-01T05:30:00-04:30", &ns));
  EXPECT_EQ(ns, kBase * 1000000000);
  ASSERT_TRUE(parse_rfc3339_ns("1970-01-01T00:00:00Z", &ns));
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_rfc3339_ns("2000-02-29T00:00:00Z", &ns));
  EXPECT_EQ(ns, 951782400LL * 1000000000);
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T10:00:00.Z", &ns));
  EXPECT_FALSE(parse_rfc3339_ns("2024-13-01T10:00:00Z", &ns));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01 10:00:00Z", &ns));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T10:00:00+0200", &ns));
  EXPECT_FALSE(parse_rfc3339_ns("2024-05-01T10:00:00Zjunk", &ns));
}

TEST(CriLineDecoder, FullPartialAndStreams) {
  CriLineDecoder d;
  DecodedLine out;
  ASSERT_EQ(d.decode("2024-05-01T12:00:00.123456789+02:00 stdout F GET /healthz 200", &out),
            LineError::kNone);
  EXPECT_EQ(out.message, "GET /healthz 200");
  EXPECT_EQ(out.stream, Stream::kStdout);
  EXPECT_EQ(out.time_ns, kBase * 1000000000 + 123456789);
  EXPECT_FALSE(out.partial);
  ASSERT_EQ(d.decode("2024-05-01T10:00:00.2Z stderr P first  part ", &out), LineError::kNone);
  EXPECT_TRUE(out.partial);
  EXPECT_EQ(out.stream, Stream::kStderr);
  EXPECT_EQ(out.message, "first  part ");   // raw bytes, spaces kept
  ASSERT_EQ(d.decode("2024-05-01T10:00:00Z stdout F:x:y tagged", &out), LineError::kNone);
  EXPECT_EQ(out.message, "tagged");
  ASSERT_EQ(d.decode("2024-05-01T10:00:00Z stdout F", &out), LineError::kNone);
  EXPECT_EQ(out.message, "");
  ASSERT_EQ(d.decode(std::string_view("2024-05-01T10:00:00Z stdout F \xff\x00raw", 35), &out),
            LineError::kNone);
  EXPECT_EQ(out.message, std::string_view("\xff\x00raw", 5));
}

TEST(CriLineDecoder, InvalidInputs) {
  CriLineDecoder d;
  DecodedLine out;
  EXPECT_EQ(d.decode("garbage", &out), LineError::kBadFormat);
  EXPECT_EQ(d.decode("notatime stdout F x", &out), LineError::kBadTime);
  EXPECT_EQ(d.decode("2024-05-01T10:00:00Z stdin F x", &out), LineError::kBadStream);
  EXPECT_EQ(d.decode("2024-05-01T10:00:00Z stdout", &out), LineError::kBadFormat);
  EXPECT_EQ(d.decode("2024-05-01T10:00:00Z stdout X msg", &out), LineError::kBadFormat);
  EXPECT_EQ(d.decode(R"({"log":"docker line in a cri file\n"})", &out), LineError::kBadTime);
}

}  // namespace
}  // namespace logship::docker
