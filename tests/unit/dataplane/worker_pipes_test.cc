// Pipes between workers: the ring itself, and two real workers forwarding a producer on
// one to consumers on the other, key-frame requests going back, packets for a producer
// already gone counted.
#include "dataplane/worker_pipes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "pipe_fixture.h"
#include "wire/rtcp_picture_loss_indication.h"

namespace weir::dp::testing {
namespace {

TEST(PipeRing, FillsToCapacityThenRefusesUntilTheReaderPops) {
  PipeRing ring(4);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.front(), nullptr);
  for (uint32_t i = 0; i < 4; ++i) {
    PipedPacket* slot = ring.reserve();
    ASSERT_NE(slot, nullptr) << i;
    slot->producer = 100 + i;
    slot->len = static_cast<uint16_t>(i);
    ring.commit();
  }
  EXPECT_EQ(ring.reserve(), nullptr);  // full: the writer drops, never waits
  const PipedPacket* first = ring.front();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->producer, 100u);
  ring.pop();
  PipedPacket* again = ring.reserve();
  ASSERT_NE(again, nullptr);
  again->producer = 200;
  ring.commit();
  for (uint32_t expected : {101u, 102u, 103u, 200u}) {  // in order, across the wrap
    const PipedPacket* p = ring.front();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->producer, expected);
    ring.pop();
  }
  EXPECT_TRUE(ring.empty());
}

TEST(PipeRing, OneWriterOneReaderThreadsSeeEveryPacketInOrder) {
  PipeRing ring(64);
  constexpr uint32_t kCount = 50000;
  std::thread writer([&] {
    for (uint32_t i = 0; i < kCount;) {
      if (PipedPacket* slot = ring.reserve()) {
        slot->producer = i;
        slot->data[0] = static_cast<uint8_t>(i);
        ring.commit();
        ++i;
      }
    }
  });
  uint32_t next = 0;
  bool in_order = true;
  while (next < kCount) {
    if (const PipedPacket* p = ring.front()) {
      in_order = in_order && p->producer == next && p->data[0] == static_cast<uint8_t>(next);
      ring.pop();
      ++next;
    }
  }
  writer.join();
  EXPECT_TRUE(in_order);
}

TEST(WorkerPipes, EveryOrderedPairHasItsOwnRings) {
  WorkerPipes pipes(3, 8, 4);
  EXPECT_EQ(pipes.worker_count(), 3u);
  EXPECT_NE(&pipes.media(0, 1), &pipes.media(1, 0));
  EXPECT_NE(&pipes.media(0, 1), &pipes.media(0, 2));
  EXPECT_EQ(pipes.media(2, 1).capacity(), 8u);
  EXPECT_EQ(pipes.keyframes(1, 2).capacity(), 4u);
  pipes.wake(1);  // no engine attached: nothing happens
  pipes.wake(7);  // out of range: nothing happens
}

// Counts wake() calls; nothing else is used.
class WakeCountingEngine : public UdpEngine {
 public:
  const char* name() const override { return "fake"; }
  int add_socket(const UdpBinding&, std::string*) override { return -1; }
  void remove_socket(uint32_t) override {}
  size_t rx_burst(RxPacket*, size_t, uint32_t) override { return 0; }
  void tx_burst(TxPacket*, size_t) override {}
  void wake() override { ++wakes; }
  const EngineStats& stats() const override { return stats_; }
  int wakes = 0;

 private:
  EngineStats stats_;
};

TEST(WorkerPipes, AWriterWakesAWorkerOnlyWhileItWaits) {
  WorkerPipes pipes(2, 8, 4);
  WakeCountingEngine engine;
  pipes.attach(1, &engine);
  pipes.wake_if_sleeping(1);  // busy: no system call
  EXPECT_EQ(engine.wakes, 0);
  pipes.set_sleeping(1, true);
  pipes.wake_if_sleeping(1);
  EXPECT_EQ(engine.wakes, 1);
  pipes.set_sleeping(1, false);
  pipes.wake_if_sleeping(1);
  EXPECT_EQ(engine.wakes, 1);
  pipes.wake(1);  // unconditional
  EXPECT_EQ(engine.wakes, 2);
  pipes.attach(1, nullptr);  // stopped: nothing to wake
  pipes.set_sleeping(1, true);
  pipes.wake_if_sleeping(1);
  EXPECT_EQ(engine.wakes, 2);
}

// The next RTP packet (the consumer's sender reports may come in between); empty on timeout.
std::vector<uint8_t> receive_rtp(const Endpoint& e) {
  for (;;) {
    auto p = e.receive();
    if (p.size() < 2 || p[1] < 200 || p[1] > 206) return p;
  }
}

// Waits until pred() holds, at most 2 s.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

class Pipes : public TwoWorkerFixture {};

TEST_F(Pipes, AProducerOnOneWorkerReachesConsumersOnTheOther) {
  Endpoint sender, local_receiver, remote_receiver;
  const SocketAddress in = add_transport(0, 1, true);
  add_transport(0, 2, false, local_receiver.address());
  add_transport(1, 3, false, remote_receiver.address());
  const AddProducer producer = add_producer(10, 1, 1111);
  pipe_to_worker1(producer);
  ConsumerCounters& local = add_consumer(0, 20, 10, 2, 5000);
  ConsumerCounters& remote = add_consumer(1, 21, 10, 3, 6000);

  for (int i = 0; i < 5; ++i) {
    RtpSpec s;
    s.seq = static_cast<uint16_t>(100 + i);
    s.payload = vp8_payload(i == 0);
    sender.send_to(in, make_rtp(s));
  }
  for (int i = 0; i < 5; ++i) {
    const auto a = receive_rtp(local_receiver);
    const auto b = receive_rtp(remote_receiver);
    ASSERT_GE(a.size(), 12u) << i;
    ASSERT_GE(b.size(), 12u) << i;
    EXPECT_EQ(wire::load_be32(&b[8]), 6000u);  // the remote consumer's own SSRC
    EXPECT_EQ(wire::load_be16(&b[2]), wire::load_be16(&a[2]));
    EXPECT_EQ(std::vector<uint8_t>(a.begin() + 12, a.end()),
              std::vector<uint8_t>(b.begin() + 12, b.end()));
  }
  EXPECT_EQ(local.packets.get(), 5u);
  EXPECT_EQ(remote.packets.get(), 5u);
  EXPECT_EQ(workers_[0]->counters().piped_out.get(), 5u);
  EXPECT_TRUE(eventually([&] { return workers_[1]->counters().piped_in.get() == 5u; }));
  EXPECT_EQ(workers_[0]->counters().pipe_full.get(), 0u);
  EXPECT_EQ(producers_[0]->packets.get(), 5u);  // counted once, by the producer's worker
}

TEST_F(Pipes, AKeyFrameRequestFromTheOtherWorkerReachesTheProducersEndpoint) {
  Endpoint sender(300), remote_receiver;
  const SocketAddress in = add_transport(0, 1, true);
  const SocketAddress out = add_transport(1, 3, false, remote_receiver.address());
  const AddProducer producer = add_producer(10, 1, 1111);
  pipe_to_worker1(producer);
  add_consumer(1, 21, 10, 3, 6000);
  // The consumer waits for a key frame: an inter frame makes worker 1 ask for one.
  RtpSpec s;
  s.payload = vp8_payload(false);
  sender.send_to(in, make_rtp(s));
  bool got_pli = false;
  for (int i = 0; i < 5 && !got_pli; ++i) {
    const auto rtcp = sender.receive();
    wire::RtcpPictureLossIndicationView pli;
    got_pli = !rtcp.empty() &&
              wire::RtcpPictureLossIndicationView::parse(rtcp.data(), rtcp.size(), pli) &&
              pli.media_ssrc() == 1111u;
  }
  EXPECT_TRUE(got_pli);
  EXPECT_EQ(producers_[0]->keyframe_requests.get(), 1u);
  // The consumer's endpoint asks too (its PLI names the consumer's SSRC): throttled on
  // worker 1 within the interval, so nothing more crosses.
  std::vector<uint8_t> pli(12);
  wire::write_rtcp_picture_loss_indication(pli.data(), pli.size(), 1, 6000);
  remote_receiver.send_to(out, pli);
  EXPECT_TRUE(eventually([&] { return consumers_[0]->keyframe_requests.get() == 1u; }));
  EXPECT_EQ(producers_[0]->keyframe_requests.get(), 1u);
}

TEST_F(Pipes, PacketsForAProducerTheOtherWorkerNoLongerHasAreCounted) {
  Endpoint sender, remote_receiver;
  const SocketAddress in = add_transport(0, 1, true);
  add_transport(1, 3, false, remote_receiver.address());
  const AddProducer producer = add_producer(10, 1, 1111);
  pipe_to_worker1(producer);
  // The copy goes while the producer's worker still pipes (what RemoveProducerPipe first
  // avoids): its packets are counted, not forwarded, not crashed on.
  run(1, RemoveProducer{10});
  RtpSpec s;
  s.payload = vp8_payload(true);
  sender.send_to(in, make_rtp(s));
  EXPECT_TRUE(
      eventually([&] { return workers_[1]->counters().pipe_unknown_producer.get() == 1u; }));
  EXPECT_EQ(workers_[1]->counters().piped_in.get(), 0u);
  // Once the pipe is removed nothing crosses at all.
  run(0, RemoveProducerPipe{10, 1});
  s.seq = 2;
  sender.send_to(in, make_rtp(s));
  EXPECT_TRUE(eventually([&] { return producers_[0]->packets.get() == 2u; }));
  EXPECT_EQ(workers_[0]->counters().piped_out.get(), 1u);
}

}  // namespace
}  // namespace weir::dp::testing
