#include "latency_histogram.h"

#include <gtest/gtest.h>

namespace weir::pktgen {
namespace {

TEST(LatencyHistogram, EmptyGivesZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(0.50), 50u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_EQ(h.percentile(0.0), 1u);
}

TEST(LatencyHistogram, BucketBoundsRoundTrip) {
  for (size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
    const uint64_t lo = LatencyHistogram::lower_bound_of(i);
    ASSERT_EQ(LatencyHistogram::index_of(lo), i) << "bucket " << i;
    if (i > 0) {
      ASSERT_EQ(LatencyHistogram::index_of(lo - 1), i - 1) << "bucket " << i;
    }
  }
}

TEST(LatencyHistogram, LargeValuesWithinRelativeError) {
  for (uint64_t v : {128ull, 1000ull, 4321ull, 20000ull, 999999ull, 123456789ull}) {
    const uint64_t lo = LatencyHistogram::lower_bound_of(LatencyHistogram::index_of(v));
    EXPECT_LE(lo, v);
    EXPECT_GE(static_cast<double>(lo), static_cast<double>(v) * (1 - 1.0 / 64)) << v;
  }
}

TEST(LatencyHistogram, TailIsSeenByP99) {
  LatencyHistogram h;
  for (int i = 0; i < 980; ++i) h.record(80);
  for (int i = 0; i < 20; ++i) h.record(5000);
  EXPECT_EQ(h.percentile(0.5), 80u);
  const uint64_t p99 = h.percentile(0.99);
  EXPECT_GT(p99, 4900u);
  EXPECT_LE(p99, 5000u);
}

TEST(LatencyHistogram, HugeValuesClampIntoLastBucket) {
  LatencyHistogram h;
  h.record(~0ull);
  EXPECT_EQ(LatencyHistogram::index_of(~0ull), LatencyHistogram::kBuckets - 1);
  EXPECT_EQ(h.count(), 1u);
}

}  // namespace
}  // namespace weir::pktgen
