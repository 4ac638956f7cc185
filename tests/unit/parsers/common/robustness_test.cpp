// Bad input never crashes and is never lost: random bytes, cut JSON, stray quotes and escapes
// go through every processor; parsers keep every event, multiline keeps every byte.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/support/parser_test_util.h"

namespace logship {
namespace {

using testing::batch;
using testing::make;
using testing::messages;
using testing::source;

std::vector<std::string> nasty_lines(uint32_t seed, std::size_t n) {
  std::mt19937 rng(seed);
  const std::vector<std::string> seeds = {
      R"({"a":"b\u00e9","n":[1,{"x":null}],"m":"line\nbreak"})",
      R"(level=info msg="quoted \" value" k=v)",
      R"(1.2.3.4 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x")",
      "<34>1 2024-05-01T10:00:00Z h a p m [sd x=\"y\"] msg",
      "java.lang.X: y", "\tat a.b(C.java:1)", "Traceback (most recent call last):",
      "goroutine 1 [running]:", "    at f (x.js:1:1)", "\tfrom x.rb:1:in `y'", "",
      "2024-05-01T10:00:00.123Z"};
  std::string specials = "{}[]\":,\\=\t\n\r \xff\xc3\xa9\x80u0123456789.-+eE";
  specials.push_back('\0');
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::string l = seeds[rng() % seeds.size()];
    int edits = static_cast<int>(rng() % 6);
    for (int k = 0; k < edits; ++k) {
      std::size_t pos = l.empty() ? 0 : rng() % (l.size() + 1);
      switch (rng() % 4) {
        case 0: l.insert(pos, 1, specials[rng() % specials.size()]); break;
        case 1: if (pos < l.size()) l.erase(pos, 1 + rng() % 8); break;
        case 2: if (pos < l.size()) l[pos] = static_cast<char>(rng() % 256); break;
        default: l = l.substr(0, pos); break;   // a line cut short
      }
    }
    out.push_back(l);
  }
  return out;
}

TEST(ParserRobustnessTest, ParsersKeepEveryEventOnGarbage) {
  const std::vector<std::pair<std::string, std::string>> setups = {
      {"json", "{}"}, {"json", "{target: t, keep_original: true}"},
      {"json", "{non_object: pass, message_key: []}"},
      {"regex", "{format: nginx}"}, {"regex", "{format: syslog}"},
      {"logfmt", "{auto_types: true}"}, {"timestamp", "{field: message, format: rfc3339}"},
      {"timestamp", "{field: message, format: '%d/%b/%Y:%H:%M:%S %z'}"},
  };
  int k = 0;
  for (const auto& [type, yaml] : setups) {
    SCOPED_TRACE(type + " " + yaml);
    auto p = make(type, "rb_" + std::to_string(k++), yaml);
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      auto lines = nasty_lines(seed, 200);
      auto b = batch(source(), lines);
      p->process(*b);
      ASSERT_EQ(b->size(), lines.size());
      for (std::size_t i = 0; i < lines.size(); ++i) {
        const Event& e = b->events()[i];
        // A failed parse leaves the text exactly as it came.
        if (e.flags & kEventParseFailed) {
          EXPECT_EQ(e.message, lines[i]);
        }
        // Whatever came out encodes as valid output (no crash, no dangling views).
        std::string out;
        json::append_event(out, e, b->source());
        EXPECT_FALSE(out.empty());
      }
    }
  }
}

TEST(ParserRobustnessTest, MultilineKeepsEveryByteOnGarbage) {
  int k = 0;
  for (const char* rules :
       {"java", "python", "go", "nodejs", "ruby", "dotnet", "php", "header", "auto"}) {
    SCOPED_TRACE(rules);
    for (uint32_t seed = 1; seed <= 10; ++seed) {
      auto lines = nasty_lines(seed * 7, 300);
      for (std::size_t per : {1, 5, 64}) {
        auto p = make("multiline", "rb_ml_" + std::to_string(k++),
                      std::string("{rules: ") + rules + ", max_lines: 5}");
        std::vector<std::string> got;
        for (std::size_t i = 0; i < lines.size(); i += per) {
          std::vector<std::string> part(lines.begin() + static_cast<std::ptrdiff_t>(i),
                                        lines.begin() + static_cast<std::ptrdiff_t>(
                                                            std::min(lines.size(), i + per)));
          auto b = batch(source(), part);
          p->process(*b);
          for (auto& m : messages(*b)) got.push_back(m);
        }
        Batch f(source());
        p->flush(f, SteadyClock::now(), true);
        for (auto& m : messages(f)) got.push_back(m);
        std::string want, have;
        for (const auto& l : lines) want += l + "\n";
        for (const auto& m : got) have += m + "\n";
        ASSERT_EQ(have, want);
      }
    }
  }
}

}  // namespace
}  // namespace logship
