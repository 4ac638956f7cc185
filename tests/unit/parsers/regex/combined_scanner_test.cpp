#include "parsers/regex/combined_scanner.h"

#include <gtest/gtest.h>

#include <random>

#include "parsers/regex/builtin_patterns.h"

namespace logship::parsers {
namespace {

const std::vector<std::string> kLines = {
    R"x(203.0.113.7 - - [01/May/2024:10:00:00 +0000] "GET /api/orders?id=7 HTTP/1.1" 200 512 "https://shop.example.com/cart" "Mozilla/5.0 (X11; Linux x86_64)")x",
    R"x(192.168.1.20 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 304 -)x",
    R"x(10.0.0.2 - alice [01/May/2024:10:00:02 +0000] "POST /login HTTP/2.0" 302 0 "-" "curl/8.5.0" 0.004 "192.0.2.1")x",
    R"x(198.51.100.4 - - [01/May/2024:10:00:01 +0000] "-" 400 0 "-" "-")x",
    R"x(198.51.100.4 - - [01/May/2024:10:00:01 +0000] "" 400 0 "-" "-")x",
    R"x(1.2.3.4 - - [x] "PROPFIND /dav HTTP/1.1" 207 12)x",
    R"x(1.2.3.4 - - [x] "GET /a b HTTP/1.1" 400 12 "r" "u")x",
    R"x(1.2.3.4 - - [x] "GET / HTTP/1.1 " 400 12)x",
    R"x(1.2.3.4 - - [x] "get / HTTP/1.1" 400 12)x",
    R"x(1.2.3.4 - - [x] "GET /" 200 12 "r" "u)x",
    R"x(1.2.3.4 - - [x] "GET / HTTP/" 200 12)x",
    R"x(1.2.3.4 - - [x] "GET / HTTP/1.1" 2000 12)x",
    R"x(1.2.3.4 - - [x] "GET / HTTP/1.1" 200 12x "r" "u")x",
    R"x(1.2.3.4 - - [] "GET / HTTP/1.1" 200 1)x",
};

// Compares the scan with RE2 on one line; returns whether the scan answered.
bool same_as_re2(const RE2& re, const std::string& line) {
  re2::StringPiece scan[kCgCount], want[kCgCount];
  if (!scan_combined(line, scan)) return false;
  bool matched = re.Match(re2::StringPiece(line.data(), line.size()), 0, line.size(),
                          RE2::UNANCHORED, want, kCgCount);
  EXPECT_TRUE(matched) << "scan accepted a line RE2 rejects: " << line;
  if (!matched) return true;
  for (int k = 0; k < kCgCount; ++k) {
    EXPECT_EQ(scan[k].data() == nullptr, want[k].data() == nullptr) << "group " << k << ": " << line;
    EXPECT_EQ(std::string_view(scan[k].data() ? scan[k].data() : "", scan[k].size()),
              std::string_view(want[k].data() ? want[k].data() : "", want[k].size()))
        << "group " << k << ": " << line;
  }
  return true;
}

TEST(CombinedScannerTest, AgreesWithTheRegexOnRealAndEdgeLines) {
  RE2 re{std::string(combined_pattern())};
  ASSERT_TRUE(re.ok());
  int answered = 0;
  for (const auto& l : kLines) answered += same_as_re2(re, l);
  EXPECT_GE(answered, 10);
  // Ordinary access lines always take the fast path.
  re2::StringPiece sub[kCgCount];
  EXPECT_TRUE(scan_combined(kLines[0], sub));
  EXPECT_TRUE(scan_combined(kLines[1], sub));
  EXPECT_TRUE(scan_combined(kLines[2], sub));
}

TEST(CombinedScannerTest, AgreesWithTheRegexOnMutatedLines) {
  RE2 re{std::string(combined_pattern())};
  std::mt19937 rng(12345);
  const std::string alphabet = " \"[]-/0123456789AGHPTx.\t\\";
  int answered = 0, total = 0;
  for (const auto& base : kLines) {
    for (int n = 0; n < 3000; ++n) {
      std::string l = base;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !l.empty(); ++k) {
        std::size_t pos = rng() % l.size();
        switch (rng() % 3) {
          case 0: l[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: l.erase(pos, 1); break;
          default: l.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
        }
      }
      ++total;
      answered += same_as_re2(re, l);
    }
  }
  // Most mutations keep a valid line: the comparison is not vacuous.
  EXPECT_GT(answered, total / 4);
}

}  // namespace
}  // namespace logship::parsers
