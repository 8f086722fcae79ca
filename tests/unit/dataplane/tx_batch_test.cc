// TxBatch hands the engine bursts of the size the engine prefers: the DPDK engine's small
// bursts keep a just-encrypted burst in cache while the stack checksums it; the kernel
// engines' large ones save system calls.
#include <gtest/gtest.h>

#include <vector>

#include "dataplane/forwarding.h"

namespace weir::dp {
namespace {

// Records the size of every burst it is handed and releases nothing: the test's buffers
// are plain structs that no pool owns.
class RecordingEngine final : public UdpEngine {
 public:
  explicit RecordingEngine(size_t preferred) : preferred_(preferred) {}
  const char* name() const override { return "recording"; }
  int add_socket(const UdpBinding&, std::string*) override { return 0; }
  void remove_socket(uint32_t) override {}
  size_t rx_burst(RxPacket*, size_t, uint32_t) override { return 0; }
  void tx_burst(TxPacket* pkts, size_t n) override {
    bursts.push_back(n);
    for (size_t i = 0; i < n; ++i) order.push_back(pkts[i].buf);
  }
  size_t preferred_tx_burst() const override { return preferred_; }
  void wake() override {}
  const EngineStats& stats() const override { return stats_; }

  std::vector<size_t> bursts;
  std::vector<PacketBuffer*> order;

 private:
  size_t preferred_;
  EngineStats stats_;
};

std::vector<size_t> bursts_for(size_t preferred, size_t pushes, std::vector<PacketBuffer>& bufs) {
  RecordingEngine engine(preferred);
  TxBatch batch(&engine);
  bufs.assign(pushes, PacketBuffer{});
  for (size_t i = 0; i < pushes; ++i) batch.push(TxPacket{&bufs[i], 0, {}});
  const size_t before_flush = engine.order.size();
  batch.flush();
  batch.flush();  // nothing left: no empty burst
  EXPECT_EQ(engine.order.size(), pushes);
  for (size_t i = 0; i < engine.order.size(); ++i) EXPECT_EQ(engine.order[i], &bufs[i]) << i;
  // What was pushed before the explicit flush left in full bursts only.
  EXPECT_EQ(before_flush % std::max<size_t>(1, std::min(preferred, TxBatch::kCapacity)), 0u);
  return engine.bursts;
}

TEST(TxBatch, AFullBurstOfThePreferredSizeLeavesAtOnce) {
  std::vector<PacketBuffer> bufs;
  EXPECT_EQ(bursts_for(64, 150, bufs), (std::vector<size_t>{64, 64, 22}));
  EXPECT_EQ(bursts_for(64, 128, bufs), (std::vector<size_t>{64, 64}));
}

TEST(TxBatch, KernelEnginesGetTheirLargeBursts) {
  std::vector<PacketBuffer> bufs;
  EXPECT_EQ(bursts_for(1024, 150, bufs), (std::vector<size_t>{150}));
  EXPECT_EQ(bursts_for(1024, 2100, bufs), (std::vector<size_t>{1024, 1024, 52}));
}

TEST(TxBatch, APreferenceOutOfRangeIsClamped) {
  std::vector<PacketBuffer> bufs;
  EXPECT_EQ(bursts_for(0, 3, bufs), (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(bursts_for(100000, 1030, bufs), (std::vector<size_t>{1024, 6}));
}

}  // namespace
}  // namespace weir::dp
