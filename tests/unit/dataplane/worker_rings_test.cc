// The rings between a real worker and the control thread while media flows: thousands of
// commands (including control packets sent down) applied in order and none lost, and
// control packets (STUN) passed up in order and none lost, while every media packet of a
// concurrent stream is still forwarded.
#include <atomic>
#include <chrono>
#include <thread>

#include "forwarding_harness.h"
#include "wire/stun_message.h"

namespace weir::dp::testing {
namespace {

using wire::CodecKind;

class WorkerRings : public WorkerFixture {};

TEST_F(WorkerRings, CommandsAndControlPacketsDownKeepOrderWhileMediaFlows) {
  Endpoint media_sender, media_receiver(2000), control_receiver(2000);
  const SocketAddress in = add_transport(1, /*comedia=*/true);
  add_transport(2, false, media_receiver.address());
  add_producer(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
  ConsumerCounters& cc = add_consumer(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());

  constexpr int kMedia = 2000;
  std::atomic<int> media_received{0};
  std::thread receiver([&] {
    for (int i = 0; i < kMedia; ++i) {
      if (media_receiver.receive().empty()) break;
      media_received.fetch_add(1);
    }
  });
  std::thread sender([&] {
    for (int i = 0; i < kMedia; ++i) {
      RtpSpec s;
      s.seq = static_cast<uint16_t>(i);
      media_sender.send_to(in, make_rtp(s));
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });

  // Meanwhile: 3000 control packets down, numbered, each followed by a command that
  // changes nothing the stream sees (a paused flag on a second, idle consumer).
  add_consumer(21, 10, 2, 6666, false, identity_pt_map(), no_extensions(), true);
  constexpr int kDown = 3000;
  const uint64_t applied_before = worker_->applied();
  uint64_t last = 0;
  for (int i = 0; i < kDown; ++i) {
    SendControlPacket down;
    down.packet.transport = 2;
    down.packet.remote = control_receiver.address();
    down.packet.len = 4;
    wire::store_be32(down.packet.data, static_cast<uint32_t>(i));
    worker_->post(std::move(down));
    last = worker_->post(SetConsumerPaused{21, true});
  }
  worker_->wait_applied(last);
  EXPECT_EQ(worker_->applied() - applied_before, 2u * kDown);
  for (int i = 0; i < kDown; ++i) {
    const auto d = control_receiver.receive();
    ASSERT_EQ(d.size(), 4u) << "control packet " << i << " lost";
    ASSERT_EQ(wire::load_be32(d.data()), static_cast<uint32_t>(i)) << "reordered";
  }
  sender.join();
  receiver.join();
  EXPECT_EQ(media_received.load(), kMedia);
  EXPECT_EQ(cc.packets.get(), static_cast<uint64_t>(kMedia));
}

TEST_F(WorkerRings, StunGoesUpInOrderWithItsRemoteAndMediaIsNotHeldUp) {
  // A WebRTC transport on its own socket: its STUN goes up to "control" (this thread).
  std::string error;
  const int fd = open_udp_socket(*SocketAddress::parse("127.0.0.1", 0), &error);
  ASSERT_GE(fd, 0) << error;
  const SocketAddress webrtc = *SocketAddress::parse("127.0.0.1", socket_local_port(fd));
  TransportCounters counters;
  run(AddWebRtcTransport{7, UdpBinding{fd, {}}, &counters});

  Endpoint peer;
  constexpr int kUp = 3000;
  std::thread sender([&] {
    for (int i = 0; i < kUp; ++i) {
      uint8_t tid[12] = {};
      wire::store_be32(tid, static_cast<uint32_t>(i));
      std::vector<uint8_t> msg(64);
      wire::StunWriter w(msg.data(), msg.size(), wire::kStunMethodBinding, wire::StunClass::request,
                         tid);
      w.add_fingerprint();
      msg.resize(w.size());
      peer.send_to(webrtc, msg);
      if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  int next = 0;
  ControlPacket packet;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (next < kUp && std::chrono::steady_clock::now() < deadline) {
    if (!worker_->pop_control_packet(packet)) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    ASSERT_EQ(packet.transport, 7u);
    ASSERT_EQ(packet.remote, peer.address());
    wire::StunMessageView view;
    ASSERT_TRUE(wire::StunMessageView::parse(packet.data, packet.len, view));
    ASSERT_EQ(wire::load_be32(view.transaction_id()), static_cast<uint32_t>(next)) << "reordered";
    ++next;
  }
  sender.join();
  EXPECT_EQ(next, kUp);
  EXPECT_EQ(counters.control_packets_in.get(), static_cast<uint64_t>(kUp));
  EXPECT_EQ(counters.dropped.get(DropReason::control_queue_full), 0u);
  // Before any ICE check succeeded, media from the peer is not accepted.
  RtpSpec s;
  peer.send_to(webrtc, make_rtp(s));
  for (int i = 0; i < 100 && counters.dropped.get(DropReason::unknown_remote) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(counters.dropped.get(DropReason::unknown_remote), 1u);
  run(RemoveTransport{7});
}

TEST_F(WorkerRings, AFullUpRingDropsAndCountsInsteadOfWaiting) {
  std::string error;
  const int fd = open_udp_socket(*SocketAddress::parse("127.0.0.1", 0), &error);
  ASSERT_GE(fd, 0) << error;
  const SocketAddress webrtc = *SocketAddress::parse("127.0.0.1", socket_local_port(fd));
  TransportCounters counters;
  run(AddWebRtcTransport{8, UdpBinding{fd, {}}, &counters});
  Endpoint peer;
  // Nobody pops: the ring (1024) fills, the rest is counted.
  constexpr int kSent = 1500;
  for (int i = 0; i < kSent; ++i) {
    uint8_t tid[12] = {};
    std::vector<uint8_t> msg(64);
    wire::StunWriter w(msg.data(), msg.size(), wire::kStunMethodBinding, wire::StunClass::request,
                       tid);
    w.add_fingerprint();
    msg.resize(w.size());
    peer.send_to(webrtc, msg);
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (int i = 0; i < 200 && counters.control_packets_in.get() +
                                     counters.dropped.get(DropReason::control_queue_full) <
                                 kSent;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(counters.control_packets_in.get(), 1024u);
  EXPECT_EQ(counters.dropped.get(DropReason::control_queue_full),
            static_cast<uint64_t>(kSent - 1024));
  run(RemoveTransport{8});
}

}  // namespace
}  // namespace weir::dp::testing
