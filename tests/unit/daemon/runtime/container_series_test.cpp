// Per-container series: named by the container, capped for the process, the rest in one
// container="_other" series, gone with the container's last file.
#include <gtest/gtest.h>

#include "daemon/runtime/container_series.h"
#include "daemon/runtime/metrics.h"

namespace logship {
namespace {

struct CapGuard {
  explicit CapGuard(std::size_t n) : old(ContainerSeries::max_series()) {
    ContainerSeries::set_max_series(n);
  }
  ~CapGuard() { ContainerSeries::set_max_series(old); }
  std::size_t old;
};

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(ContainerSeries, CountsByNameAndLeavesWithTheLastFile) {
  CapGuard cap(10);
  Metrics m;
  ContainerSeries s(m, "docker");
  auto a = s.acquire({{"container", "web-1"}});
  auto a2 = s.acquire({{"container", "web-1"}});   // a rotated generation of the same container
  a.count(5);
  a2.count(7);
  const std::string text = m.render_prometheus();
  EXPECT_TRUE(has(text, "logship_input_container_events_total{input=\"docker\",container=\"web-1\"} 2"))
      << text;
  EXPECT_TRUE(has(text, "logship_input_container_bytes_total{input=\"docker\",container=\"web-1\"} 12"))
      << text;
  EXPECT_EQ(m.value("logship_input_container_series", "input=\"docker\""), 1);
  a.reset();
  EXPECT_EQ(m.value("logship_input_container_events_total", "input=\"docker\",container=\"web-1\""), 2);
  a2.reset();   // the container's last file: its series go
  EXPECT_EQ(m.render_prometheus().find("container=\"web-1\""), std::string::npos);
  EXPECT_EQ(m.value("logship_input_container_series", "input=\"docker\""), 0);
}

TEST(ContainerSeries, PastTheCapContainersShareTheOverflowSeries) {
  CapGuard cap(2);
  Metrics m;
  ContainerSeries s(m, "docker");
  auto a = s.acquire({{"container", "a"}});
  auto b = s.acquire({{"container", "b"}});
  auto c = s.acquire({{"container", "c"}});
  auto d = s.acquire({{"container", "d"}});
  auto d2 = s.acquire({{"container", "d"}});
  EXPECT_FALSE(a.overflowed());
  EXPECT_FALSE(b.overflowed());
  EXPECT_TRUE(c.overflowed());
  EXPECT_TRUE(d.overflowed());
  c.count(1);
  d.count(2);
  d2.count(3);
  std::string text = m.render_prometheus();
  EXPECT_TRUE(has(text, "logship_input_container_events_total{input=\"docker\",container=\"_other\"} 3"))
      << text;
  EXPECT_TRUE(has(text, "logship_input_container_bytes_total{input=\"docker\",container=\"_other\"} 6"))
      << text;
  EXPECT_EQ(text.find("container=\"c\""), std::string::npos) << text;
  // Two containers were sent to _other (d's second file is the same container).
  EXPECT_EQ(m.value("logship_input_container_series_overflow_total", "input=\"docker\""), 2);
  EXPECT_EQ(m.value("logship_input_container_series", "input=\"docker\""), 2);
  // A named series freed makes room for the next new container, not for those in _other.
  a.reset();
  auto e = s.acquire({{"container", "e"}});
  EXPECT_FALSE(e.overflowed());
  c.reset();
  d.reset();
  EXPECT_NE(m.render_prometheus().find("container=\"_other\"}"), std::string::npos);
  d2.reset();   // the last user of _other
  text = m.render_prometheus();
  EXPECT_EQ(text.find("container=\"_other\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("container=\"e\""), std::string::npos) << text;
}

TEST(ContainerSeries, TheCapHoldsForTheWholeProcess) {
  CapGuard cap(1);
  Metrics m;
  ContainerSeries one(m, "docker"), two(m, "cri");
  auto a = one.acquire({{"container", "a"}});
  auto b = two.acquire({{"namespace", "ns"}, {"pod", "p"}, {"container", "b"}});
  EXPECT_FALSE(a.overflowed());
  EXPECT_TRUE(b.overflowed());
  a.reset();
  auto c = two.acquire({{"namespace", "ns"}, {"pod", "p"}, {"container", "c"}});
  EXPECT_FALSE(c.overflowed());
  c.count(4);
  EXPECT_EQ(m.value("logship_input_container_bytes_total",
                    "input=\"cri\",namespace=\"ns\",pod=\"p\",container=\"c\""), 4);
}

TEST(ContainerSeries, CapZeroSendsEveryContainerToOverflow) {
  CapGuard cap(0);
  Metrics m;
  ContainerSeries s(m, "docker");
  auto a = s.acquire({{"container", "a"}});
  EXPECT_TRUE(a.overflowed());
}

TEST(ContainerSeries, UntrustedNamesAreBoundedAndEscaped) {
  CapGuard cap(10);
  Metrics m;
  ContainerSeries s(m, "docker");
  auto q = s.acquire({{"container", "a\"b\\c\nd\x01\xff"}});
  q.count(1);
  const std::string text = m.render_prometheus();
  EXPECT_TRUE(has(text, "logship_input_container_events_total{input=\"docker\",container=\"a\\\"b\\\\c_d__\"} 1"))
      << text;
  const std::string longest = ContainerSeries::sanitize(std::string(1000, 'x'));
  EXPECT_EQ(longest.size(), ContainerSeries::kMaxValueBytes);
  EXPECT_EQ(longest.back(), '~');
  EXPECT_EQ(ContainerSeries::sanitize("web-1"), "web-1");
  // The overflow name is reserved: a container that calls itself so is counted as overflow.
  auto o = s.acquire({{"container", "_other"}});
  EXPECT_TRUE(o.overflowed());
}

}  // namespace
}  // namespace logship
