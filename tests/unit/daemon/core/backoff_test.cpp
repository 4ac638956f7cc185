// The one retry policy: every wait lies in [ceiling/10, ceiling], the ceiling doubles per attempt
// up to max, and the draws spread over that range rather than sitting at one end.
#include "daemon/core/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

namespace logship {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, EachAttemptWaitsBetweenATenthOfItsCeilingAndTheCeiling) {
  Backoff b(milliseconds(100), milliseconds(5000));
  const int64_t ceilings[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
  for (uint32_t attempt = 0; attempt < std::size(ceilings); ++attempt) {
    int64_t lo = ceilings[attempt], hi = 0;
    for (int i = 0; i < 2000; ++i) {
      const int64_t d = b.next(attempt).count();
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    EXPECT_GE(lo, ceilings[attempt] / 10) << "attempt " << attempt;
    EXPECT_LE(hi, ceilings[attempt]) << "attempt " << attempt;
    // Spread: 2000 uniform draws come within 5% of both ends.
    EXPECT_LT(lo, ceilings[attempt] / 10 + ceilings[attempt] / 20) << "attempt " << attempt;
    EXPECT_GT(hi, ceilings[attempt] - ceilings[attempt] / 20) << "attempt " << attempt;
  }
}

TEST(BackoffTest, HugeAttemptCountsStayAtTheCapAndTinyOnesNeverWaitZero) {
  Backoff big(milliseconds(1000), milliseconds(30000));
  for (int i = 0; i < 100; ++i) {
    const int64_t d = big.next(4000000000u).count();
    EXPECT_GE(d, 3000);
    EXPECT_LE(d, 30000);
  }
  Backoff tiny(milliseconds(1), milliseconds(2));
  for (int i = 0; i < 100; ++i) {
    const int64_t d = tiny.next(0).count();
    EXPECT_EQ(d, 1);
  }
}

}  // namespace
}  // namespace logship
