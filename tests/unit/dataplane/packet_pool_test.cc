#include "dataplane/packet_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

namespace weir::dp {
namespace {

TEST(PacketPool, AllocGivesOneReferenceAtHeadroom) {
  PacketPool pool(8, 2048, 128);
  PacketBuffer* b = pool.alloc();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->refcnt, 1);
  EXPECT_EQ(b->len, 0);
  EXPECT_EQ(b->headroom(), 128u);
  EXPECT_EQ(b->data(), b->base + 128);
  EXPECT_EQ(b->capacity, 2048);
  EXPECT_EQ(b->room(), 2048u - 128u);
  EXPECT_EQ(b->tailroom(), 2048u - 128u);
  b->len = 100;
  EXPECT_EQ(b->tailroom(), 2048u - 128u - 100u);
  EXPECT_EQ(b->room(), 2048u - 128u);
  EXPECT_EQ(pool.available(), 7u);
  pool.release(b);
  EXPECT_EQ(pool.available(), 8u);
}

TEST(PacketPool, ReferencesKeepBufferUntilLastRelease) {
  PacketPool pool(4);
  PacketBuffer* b = pool.alloc();
  ASSERT_NE(b, nullptr);
  PacketPool::ref(b);
  PacketPool::ref(b);
  EXPECT_EQ(b->refcnt, 3);
  pool.release(b);
  pool.release(b);
  EXPECT_EQ(pool.available(), 3u);
  pool.release(b);
  EXPECT_EQ(pool.available(), 4u);
}

TEST(PacketPool, ReusedBufferIsReset) {
  PacketPool pool(1, 512, 64);
  PacketBuffer* b = pool.alloc();
  ASSERT_NE(b, nullptr);
  b->data_off = 10;
  b->len = 300;
  pool.release(b);
  PacketBuffer* again = pool.alloc();
  ASSERT_EQ(again, b);
  EXPECT_EQ(again->data_off, 64);
  EXPECT_EQ(again->len, 0);
  EXPECT_EQ(again->refcnt, 1);
  pool.release(again);
}

TEST(PacketPool, ExhaustionIsCountedAndRecovers) {
  PacketPool pool(4);
  std::vector<PacketBuffer*> held;
  for (int i = 0; i < 4; ++i) held.push_back(pool.alloc());
  for (PacketBuffer* b : held) ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.available(), 0u);
  EXPECT_EQ(pool.alloc(), nullptr);
  EXPECT_EQ(pool.alloc(), nullptr);
  EXPECT_EQ(pool.alloc_failures(), 2u);
  pool.release(held.back());
  held.pop_back();
  PacketBuffer* b = pool.alloc();
  ASSERT_NE(b, nullptr);
  held.push_back(b);
  for (PacketBuffer* h : held) pool.release(h);
  EXPECT_EQ(pool.available(), 4u);
  EXPECT_EQ(pool.alloc_failures(), 2u);
}

TEST(PacketPool, IndexesUniqueAndBuffersDisjoint) {
  constexpr uint32_t kCount = 256;
  constexpr uint32_t kSize = 1024;
  PacketPool pool(kCount, kSize, 64);
  std::set<uint32_t> indexes;
  std::vector<PacketBuffer*> all;
  for (uint32_t i = 0; i < kCount; ++i) {
    PacketBuffer* b = pool.alloc();
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(indexes.insert(b->index).second) << "index " << b->index << " handed out twice";
    EXPECT_LT(b->index, kCount);
    EXPECT_EQ(pool.at(b->index), b);
    EXPECT_EQ(b->base, pool.memory() + static_cast<size_t>(b->index) * kSize);
    all.push_back(b);
  }
  EXPECT_EQ(pool.memory_size(), static_cast<size_t>(kCount) * kSize);
  // Fill every buffer to its last byte with its own index: a neighbour overlap would show.
  for (PacketBuffer* b : all) std::memset(b->base, static_cast<int>(b->index & 0xff), kSize);
  for (PacketBuffer* b : all) {
    EXPECT_EQ(b->base[0], b->index & 0xff);
    EXPECT_EQ(b->base[kSize - 1], b->index & 0xff);
  }
  for (PacketBuffer* b : all) pool.release(b);
  EXPECT_EQ(pool.available(), kCount);
}

TEST(PacketPool, RejectsBadGeometry) {
  EXPECT_THROW(PacketPool(0), std::invalid_argument);
  EXPECT_THROW(PacketPool(4, 128, 128), std::invalid_argument);
  EXPECT_THROW(PacketPool(4, 70000, 128), std::invalid_argument);
}

TEST(PacketPool, MemoryIsPageAligned) {
  PacketPool pool(3, 2048);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(pool.memory()) % 4096, 0u);
}

}  // namespace
}  // namespace weir::dp
