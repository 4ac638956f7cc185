// What a multiline processor holds across batches is charged to the memory budget, and a long
// group's buffer is let go once emitted.
#include <gtest/gtest.h>

#include "daemon/runtime/memory_budget.h"
#include "tests/unit/parsers/multiline/multiline_test_util.h"

namespace logship {
namespace {

using testing::Harness;
using testing::make;

TEST(MultilineMemoryTest, HeldGroupIsChargedAndReleasedWhenEmitted) {
  MemoryBudget& budget = MemoryBudget::global();
  const int64_t before = budget.held(MemoryPart::kMultiline);
  auto p = make("multiline", "ml_memory", "{rules: java}");
  Harness h(p.p.get());
  const std::string frame = "\tat com.example.Deep.call(Deep.java:1) " + std::string(200, 'f');
  std::vector<std::string> lines = {"java.lang.X: boom"};
  for (int i = 0; i < 100; ++i) lines.push_back(frame);
  h.emit(lines, 100);   // the trace may go on: all of it is held
  EXPECT_GE(budget.held(MemoryPart::kMultiline) - before, 100 * 240);
  h.emit({"INFO next"}, 200);   // ends the trace
  h.deliver();
  ASSERT_EQ(h.delivered.size(), 1u);
  EXPECT_LE(budget.held(MemoryPart::kMultiline) - before, 4096);
  h.flush(true);
  h.deliver();
  p.p.reset();
  EXPECT_EQ(budget.held(MemoryPart::kMultiline), before);
}

}  // namespace
}  // namespace logship
