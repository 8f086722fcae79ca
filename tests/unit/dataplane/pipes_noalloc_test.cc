// Proof that the pipe path does not touch the heap: after a warm-up, worker 0 receives a
// producer's packets and pipes each to worker 1, which forwards it to its consumers, while
// every malloc and operator new in the process is counted. The test thread only makes raw
// send/recv system calls meanwhile.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "counting_allocator.h"
#include "pipe_fixture.h"

namespace weir::dp::testing {
namespace {

class PipeNoAllocation : public TwoWorkerFixture {};

TEST_F(PipeNoAllocation, PipingAndForwardingOnTheOtherWorkerAllocatesNothing) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer owns malloc in this build";
#endif
  constexpr int kConsumers = 8;
  constexpr int kPackets = 1000;
  constexpr int kWarmup = 10;
  Endpoint sender;
  std::vector<std::unique_ptr<Endpoint>> receivers;
  const SocketAddress in = add_transport(0, 1, true);
  const AddProducer producer = add_producer(10, 1, 1111);
  pipe_to_worker1(producer);
  for (int i = 0; i < kConsumers; ++i) {
    receivers.push_back(std::make_unique<Endpoint>());
    add_transport(1, static_cast<TransportId>(100 + i), false, receivers.back()->address());
    add_consumer(1, static_cast<ConsumerId>(200 + i), 10, static_cast<TransportId>(100 + i),
                 static_cast<uint32_t>(7000 + i));
  }
  std::vector<std::vector<uint8_t>> packets;
  for (int i = 0; i < kPackets + kWarmup; ++i) {
    RtpSpec s;
    s.seq = static_cast<uint16_t>(i + 1);
    s.payload = vp8_payload(i % 30 == 0, 1100);
    packets.push_back(make_rtp(s));
  }
  std::vector<uint8_t> sink(2048);
  auto drain = [&](int count) {
    for (auto& r : receivers) {
      for (int k = 0; k < count;) {
        const ssize_t n = ::recv(r->fd(), sink.data(), sink.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;                               // timed out: counted below
        if (sink[1] >= 200 && sink[1] <= 206) continue;  // a sender report
        ++k;
      }
    }
  };
  auto send = [&](int i) {
    const auto& p = packets[static_cast<size_t>(i)];
    ::sendto(sender.fd(), p.data(), p.size(), 0, in.sockaddr_ptr(), in.length());
  };
  for (int i = 0; i < kWarmup; ++i) send(i);
  drain(kWarmup);
  uint64_t before = 0;
  for (auto& c : consumers_) before += c->packets.get();

  g_allocations = 0;
  g_counting = true;
  for (int i = kWarmup; i < kPackets + kWarmup; i += 16) {
    const int end = std::min(i + 16, kPackets + kWarmup);
    for (int k = i; k < end; ++k) send(k);
    drain(end - i);  // keeps the receive queues short
  }
  g_counting = false;
  uint64_t total = 0;
  for (auto& c : consumers_) total += c->packets.get();
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_EQ(total - before, uint64_t{kConsumers} * kPackets);
  EXPECT_EQ(workers_[1]->counters().piped_in.get(), uint64_t{kPackets + kWarmup});
  EXPECT_EQ(workers_[0]->counters().pipe_full.get(), 0u);
}

}  // namespace
}  // namespace weir::dp::testing
