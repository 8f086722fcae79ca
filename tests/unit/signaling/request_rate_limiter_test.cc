#include "signaling/request_rate_limiter.h"

#include <gtest/gtest.h>

namespace weir::signaling {
namespace {

using Verdict = RequestRateLimiter::Verdict;
using std::chrono::milliseconds;

TEST(RequestRateLimiter, BurstThenRate) {
  auto t0 = RequestRateLimiter::Clock::now();
  RequestRateLimiter l(50, 200, 1000, milliseconds(10000), t0);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(l.on_request(t0), Verdict::serve) << i;
  EXPECT_EQ(l.on_request(t0), Verdict::refuse);
  EXPECT_EQ(l.refused_total(), 1u);
  // 50/s: one token every 20 ms.
  EXPECT_EQ(l.on_request(t0 + milliseconds(10)), Verdict::refuse);
  EXPECT_EQ(l.on_request(t0 + milliseconds(21)), Verdict::serve);
  EXPECT_EQ(l.on_request(t0 + milliseconds(22)), Verdict::refuse);
  // A long pause refills up to the burst, not beyond.
  auto later = t0 + milliseconds(60000);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(l.on_request(later), Verdict::serve) << i;
  EXPECT_EQ(l.on_request(later), Verdict::refuse);
}

TEST(RequestRateLimiter, SustainedFloodCloses) {
  auto t0 = RequestRateLimiter::Clock::now();
  RequestRateLimiter l(10, 5, 100, milliseconds(10000), t0);
  for (int i = 0; i < 5; ++i) l.on_request(t0);
  for (int i = 0; i < 99; ++i) ASSERT_EQ(l.on_request(t0), Verdict::refuse) << i;
  EXPECT_EQ(l.on_request(t0), Verdict::close);
}

TEST(RequestRateLimiter, RefusalsSpreadOverWindowsDoNotClose) {
  auto t0 = RequestRateLimiter::Clock::now();
  RequestRateLimiter l(1, 1, 10, milliseconds(1000), t0);
  auto t = t0;
  for (int round = 0; round < 20; ++round) {
    t += milliseconds(1100);  // a new window, and one token back
    EXPECT_EQ(l.on_request(t), Verdict::serve);
    for (int i = 0; i < 8; ++i) ASSERT_EQ(l.on_request(t), Verdict::refuse);
  }
}

TEST(RequestRateLimiter, ZeroRateMeansNoLimit) {
  auto t0 = RequestRateLimiter::Clock::now();
  RequestRateLimiter l(0, 1, 1, milliseconds(1000), t0);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(l.on_request(t0), Verdict::serve);
}

}  // namespace
}  // namespace weir::signaling
