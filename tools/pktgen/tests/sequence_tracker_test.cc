#include "sequence_tracker.h"

#include <gtest/gtest.h>

namespace weir::pktgen {
namespace {

using V = SequenceTracker::Verdict;

TEST(SequenceTracker, InOrderAcrossWrap) {
  SequenceTracker t;
  uint64_t ext = 0, prev = 0;
  EXPECT_EQ(t.on_packet(65534, prev), V::first);
  for (uint16_t s : {65535, 0, 1, 2}) {
    EXPECT_EQ(t.on_packet(s, ext), V::in_order) << s;
    EXPECT_EQ(ext, prev + 1);
    prev = ext;
  }
  EXPECT_EQ(t.gaps(), 0u);
  EXPECT_EQ(t.late(), 0u);
}

TEST(SequenceTracker, GapCountsMissingPackets) {
  SequenceTracker t;
  uint64_t ext = 0;
  t.on_packet(10, ext);
  EXPECT_EQ(t.on_packet(11, ext), V::in_order);
  EXPECT_EQ(t.on_packet(15, ext), V::gap);
  EXPECT_EQ(t.gaps(), 1u);
  EXPECT_EQ(t.missing(), 3u);
  EXPECT_EQ(t.on_packet(16, ext), V::in_order);
}

TEST(SequenceTracker, ReorderAndDuplicateAreLate) {
  SequenceTracker t;
  uint64_t ext = 0, e13 = 0, e12 = 0;
  t.on_packet(10, ext);
  t.on_packet(11, ext);
  EXPECT_EQ(t.on_packet(13, e13), V::gap);
  EXPECT_EQ(t.on_packet(12, e12), V::late);  // arrived after 13
  EXPECT_EQ(e12 + 1, e13);
  EXPECT_EQ(t.on_packet(13, ext), V::late);  // duplicate
  EXPECT_EQ(t.late(), 2u);
  EXPECT_EQ(t.on_packet(14, ext), V::in_order);
}

TEST(SequenceTracker, LateBeforeWrapIsPlacedBelow) {
  SequenceTracker t;
  uint64_t a = 0, b = 0, c = 0;
  t.on_packet(0, a);
  EXPECT_EQ(t.on_packet(2, b), V::gap);
  EXPECT_EQ(t.on_packet(65535, c), V::late);
  EXPECT_EQ(c + 1, a);
}

}  // namespace
}  // namespace weir::pktgen
