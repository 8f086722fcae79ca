// Proof that the io_uring engine's packet path never touches the heap: global operator new
// and malloc are replaced by counting versions, and 1,000 rx/tx bursts must count zero.
// Under ASAN the sanitizer owns malloc, so the test is skipped there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "counting_allocator.h"
#include "dataplane/udp_engine.h"
#include "io_test_support.h"

namespace weir::dp {
namespace {

using testing::io_uring_usable;
using testing::local_address;
using testing::loopback;

TEST(UringNoAlloc, ThousandBurstsAllocateNothing) {
#ifdef WEIR_ASAN
  GTEST_SKIP() << "ASAN replaces malloc; allocation counting is meaningless here";
#else
  if (!io_uring_usable()) GTEST_SKIP() << "this kernel refuses io_uring";
  PacketPool pool(2048);
  EngineConfig config;
  config.rx_buffers = 512;
  config.queue_depth = 256;
  std::string error;
  auto engine = make_uring_engine(pool, config, &error);
  ASSERT_NE(engine, nullptr) << error;
  uint32_t index[2];
  SocketAddress addr[2];
  for (int i = 0; i < 2; ++i) {
    const int fd = open_udp_socket(loopback(false), &error);
    ASSERT_GE(fd, 0) << error;
    addr[i] = local_address(fd);
    const int idx = engine->add_socket(UdpBinding{fd, {}}, &error);
    ASSERT_GE(idx, 0) << error;
    index[i] = static_cast<uint32_t>(idx);
  }

  constexpr int kPerBurst = 8;
  TxPacket tx[kPerBurst];
  RxPacket rx[64];
  uint64_t received = 0, expected = 0;
  bool stalled = false;
  auto one_round = [&](int round) {
    for (int i = 0; i < kPerBurst; ++i) {
      PacketBuffer* b = pool.alloc();
      if (b == nullptr) {
        stalled = true;
        return;
      }
      std::memset(b->data(), round & 0xff, 200);
      b->len = 200;
      // Each socket sends to the other, so both receive paths run.
      tx[i] = TxPacket{b, index[i % 2], addr[(i + 1) % 2]};
    }
    engine->tx_burst(tx, kPerBurst);
    expected += kPerBurst;
    for (int call = 0; call < 100 && received < expected; ++call) {
      const size_t n = engine->rx_burst(rx, 64, 20000);
      for (size_t i = 0; i < n; ++i) {
        if (rx[i].buf->len != 200 || rx[i].buf->data()[0] != (round & 0xff)) stalled = true;
        pool.release(rx[i].buf);
      }
      received += n;
    }
    if (received < expected) stalled = true;
  };

  for (int round = 0; round < 50; ++round) one_round(round);  // warm-up
  ASSERT_FALSE(stalled);
  g_allocations = 0;
  g_counting = true;
  for (int round = 0; round < 1000 && !stalled; ++round) one_round(round);
  g_counting = false;
  ASSERT_FALSE(stalled) << "traffic stopped after " << received << " of " << expected;
  EXPECT_EQ(g_allocations.load(), 0u) << "the engine allocated on the packet path";
  EXPECT_EQ(engine->stats().rx_packets, expected);
  EXPECT_GE(engine->stats().submits, 1050u);
#endif
}

// The counter itself must see allocations, or the test above could never fail.
TEST(UringNoAlloc, CounterSeesAllocations) {
#ifdef WEIR_ASAN
  GTEST_SKIP() << "ASAN replaces malloc";
#else
  EXPECT_GE(allocations_seen_by_the_counter(), 2u);
#endif
}

}  // namespace
}  // namespace weir::dp
