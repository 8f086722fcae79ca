// The forwarding core through a real worker: real sockets, real io_uring (or its
// fallback), real libsrtp. Each test plays producer and consumer endpoints.
#include <random>

#include "dataplane/forwarding.h"
#include "forwarding_harness.h"
#include "wire/rtp_packet.h"

namespace weir::dp::testing {
namespace {

using wire::CodecKind;

class Forwarding : public WorkerFixture {};

TEST_F(Forwarding, RewritesSsrcPayloadTypeAndExtensionIds) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, /*comedia=*/true);
  add_transport(2, false, receiver.address());

  PayloadTypeMap producer_pts;
  producer_pts.fill(kNoMapping);
  producer_pts[96] = 101;  // browser's VP8 PT -> router PT
  ExtensionIdMap producer_ext = no_extensions();
  producer_ext[3] = 5;   // e.g. transport-cc: producer id 3 -> router id 5
  producer_ext[4] = 1;   // mid: producer id 4 -> router id 1
  ProducerCounters& pc = add_producer(10, 1, 1111, CodecKind::other, producer_pts, producer_ext);

  PayloadTypeMap consumer_pts = identity_pt_map();
  consumer_pts[101] = 120;  // this consumer negotiated another PT
  ExtensionIdMap consumer_ext = no_extensions();
  consumer_ext[5] = 7;  // router twcc id 5 -> consumer id 7; router mid not negotiated
  ConsumerCounters& cc = add_consumer(20, 10, 2, 5555, false, consumer_pts, consumer_ext);

  RtpSpec spec;
  spec.seq = 4000;
  spec.ts = 123456;
  spec.marker = true;
  spec.extensions = {{3, {0x01, 0x02}}, {4, {'a'}}};
  sender.send_to(in, make_rtp(spec));

  const auto out = receiver.receive();
  ASSERT_FALSE(out.empty());
  wire::RtpPacketView v;
  ASSERT_TRUE(wire::RtpPacketView::parse(out.data(), out.size(), v));
  EXPECT_EQ(v.ssrc(), 5555u);
  EXPECT_EQ(v.payload_type(), 120);
  EXPECT_TRUE(v.marker());
  EXPECT_EQ(v.sequence_number(), 4000);
  EXPECT_EQ(v.timestamp(), 123456u);
  const uint8_t* value = nullptr;
  size_t len = 0;
  ASSERT_TRUE(v.find_extension(7, value, len));
  ASSERT_EQ(len, 2u);
  EXPECT_EQ(value[0], 0x01);
  EXPECT_EQ(value[1], 0x02);
  EXPECT_FALSE(v.find_extension(1, value, len));
  EXPECT_FALSE(v.find_extension(3, value, len));
  EXPECT_FALSE(v.find_extension(4, value, len));
  ASSERT_EQ(v.payload_size(), spec.payload.size());
  EXPECT_EQ(0, std::memcmp(v.payload(), spec.payload.data(), spec.payload.size()));

  EXPECT_EQ(pc.packets.get(), 1u);
  EXPECT_EQ(cc.packets.get(), 1u);
  EXPECT_EQ(cc.bytes.get(), out.size());
}

TEST_F(Forwarding, FansOutToEveryConsumerOnItsOwnTransport) {
  constexpr int kConsumers = 40;
  Endpoint sender;
  std::vector<std::unique_ptr<Endpoint>> receivers;
  const SocketAddress in = add_transport(1, true);
  add_producer(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
  for (int i = 0; i < kConsumers; ++i) {
    receivers.push_back(std::make_unique<Endpoint>());
    add_transport(100 + i, false, receivers.back()->address());
    add_consumer(200 + i, 10, 100 + i, 7000 + i, false, identity_pt_map(), no_extensions());
  }
  for (uint16_t seq = 1; seq <= 5; ++seq) {
    RtpSpec s;
    s.seq = seq;
    sender.send_to(in, make_rtp(s));
  }
  for (int i = 0; i < kConsumers; ++i) {
    for (uint16_t seq = 1; seq <= 5; ++seq) {
      const auto out = receivers[static_cast<size_t>(i)]->receive();
      ASSERT_FALSE(out.empty()) << "consumer " << i << " seq " << seq;
      wire::RtpPacketView v;
      ASSERT_TRUE(wire::RtpPacketView::parse(out.data(), out.size(), v));
      EXPECT_EQ(v.ssrc(), static_cast<uint32_t>(7000 + i));
      EXPECT_EQ(v.sequence_number(), seq);
    }
  }
}

TEST_F(Forwarding, VideoConsumerStartsOnKeyFrame) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, true);
  add_transport(2, false, receiver.address());
  add_producer(10, 1, 1111, CodecKind::vp8, identity_pt_map(), no_extensions());
  ConsumerCounters& cc =
      add_consumer(20, 10, 2, 5555, true, identity_pt_map(), no_extensions());

  RtpSpec s;
  s.payload = vp8_payload(false);
  for (uint16_t seq = 1; seq <= 3; ++seq) {
    s.seq = seq;
    sender.send_to(in, make_rtp(s));
  }
  s.seq = 4;
  s.payload = vp8_payload(true);
  sender.send_to(in, make_rtp(s));

  const auto out = receiver.receive();
  ASSERT_FALSE(out.empty());
  wire::RtpPacketView v;
  ASSERT_TRUE(wire::RtpPacketView::parse(out.data(), out.size(), v));
  EXPECT_EQ(v.sequence_number(), 4);
  EXPECT_EQ(cc.dropped.get(DropReason::waiting_keyframe), 3u);
}

// What the consumer's receiver sees must be one stream: after a pause the next packet it
// gets carries last + 1 and a later timestamp, whatever the producer sent meanwhile.
TEST_F(Forwarding, ConsumerPauseResumeKeepsSequenceAndTimestampContinuous) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, true);
  add_transport(2, false, receiver.address());
  add_producer(10, 1, 1111, CodecKind::vp8, identity_pt_map(), no_extensions());
  ConsumerCounters& cc =
      add_consumer(20, 10, 2, 5555, true, identity_pt_map(), no_extensions());

  RtpSpec s;
  s.payload = vp8_payload(true);
  uint16_t last_seq = 0;
  uint32_t last_ts = 0;
  for (uint16_t seq = 100; seq < 110; ++seq) {
    s.seq = seq;
    s.ts = 3000u * seq;
    sender.send_to(in, make_rtp(s));
    const auto out = receiver.receive();
    ASSERT_FALSE(out.empty());
    last_seq = wire::load_be16(&out[2]);
    last_ts = wire::load_be32(&out[4]);
  }
  run(SetConsumerPaused{20, true});
  for (uint16_t seq = 110; seq < 150; ++seq) {
    s.seq = seq;
    s.ts = 3000u * seq;
    sender.send_to(in, make_rtp(s));
  }
  receiver.set_timeout(200);
  EXPECT_TRUE(receiver.receive().empty());
  receiver.set_timeout(1000);
  run(SetConsumerPaused{20, false});
  // The producer jumped 1,000 packets ahead meanwhile (a new encoder session, say).
  s.payload = vp8_payload(false);
  s.seq = 1150;
  s.ts = 9000000;
  sender.send_to(in, make_rtp(s));  // not a key frame: held back
  s.payload = vp8_payload(true);
  s.seq = 1151;
  s.ts = 9003000;
  sender.send_to(in, make_rtp(s));
  s.payload = vp8_payload(false);
  s.seq = 1152;
  s.ts = 9006000;
  sender.send_to(in, make_rtp(s));

  auto out = receiver.receive();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(wire::load_be16(&out[2]), static_cast<uint16_t>(last_seq + 1));
  const uint32_t resumed_ts = wire::load_be32(&out[4]);
  EXPECT_GT(resumed_ts - last_ts, 0u);
  EXPECT_LT(resumed_ts - last_ts, 90000u * 60);  // moved forward, not by an absurd jump
  out = receiver.receive();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(wire::load_be16(&out[2]), static_cast<uint16_t>(last_seq + 2));
  EXPECT_EQ(wire::load_be32(&out[4]), resumed_ts + 3000);
  EXPECT_EQ(cc.dropped.get(DropReason::paused), 40u);
  EXPECT_EQ(cc.dropped.get(DropReason::waiting_keyframe), 1u);
}

TEST_F(Forwarding, ProducerPauseResumeKeepsConsumersContinuous) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, true);
  add_transport(2, false, receiver.address());
  ProducerCounters& pc =
      add_producer(10, 1, 1111, CodecKind::opus, identity_pt_map(), no_extensions());
  add_consumer(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());
  RtpSpec s;
  s.seq = 10;
  sender.send_to(in, make_rtp(s));
  auto out = receiver.receive();
  ASSERT_FALSE(out.empty());
  const uint16_t first = wire::load_be16(&out[2]);
  run(SetProducerPaused{10, true});
  for (uint16_t seq = 11; seq < 20; ++seq) {
    s.seq = seq;
    sender.send_to(in, make_rtp(s));
  }
  ASSERT_TRUE(wait_for([&] { return pc.dropped.get(DropReason::paused) == 9; }))
      << pc.dropped.get(DropReason::paused) << " of 9 paused packets dropped";
  run(SetProducerPaused{10, false});
  s.seq = 20;
  sender.send_to(in, make_rtp(s));
  out = receiver.receive();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(wire::load_be16(&out[2]), static_cast<uint16_t>(first + 1));
  EXPECT_EQ(pc.dropped.get(DropReason::paused), 9u);
}

TEST_F(Forwarding, SrtpOnBothLegsWithIndependentSessions) {
  for (SrtpSuite suite : {SrtpSuite::aes_cm_128_hmac_sha1_80, SrtpSuite::aes_cm_128_hmac_sha1_32,
                          SrtpSuite::aead_aes_128_gcm}) {
    SCOPED_TRACE(srtp_suite_name(suite));
    const TransportId base = 10 * (static_cast<TransportId>(suite) + 1);
    Endpoint sender, receiver;
    const size_t key_len = srtp_master_length(suite);
    std::vector<uint8_t> k_in(key_len), k_out(key_len), k_wrong(key_len);
    std::mt19937 rng(static_cast<uint32_t>(base));
    for (size_t i = 0; i < key_len; ++i) {
      k_in[i] = static_cast<uint8_t>(rng());
      k_out[i] = static_cast<uint8_t>(rng());
      k_wrong[i] = static_cast<uint8_t>(rng());
    }
    const SocketAddress in = add_transport(base + 1, true, {}, true);
    const size_t producer_transport = transports_.size() - 1;
    add_transport(base + 2, false, receiver.address(), true);
    std::string error;
    run(SetTransportSrtp{base + 1,
                         SrtpSession::create(suite, SrtpSession::Direction::inbound, k_in, &error)
                             .release(),
                         SrtpSession::create(suite, SrtpSession::Direction::outbound, k_in, &error)
                             .release()});
    run(SetTransportSrtp{base + 2,
                         SrtpSession::create(suite, SrtpSession::Direction::inbound, k_out, &error)
                             .release(),
                         SrtpSession::create(suite, SrtpSession::Direction::outbound, k_out, &error)
                             .release()});
    add_producer(base + 3, base + 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
    ConsumerCounters& cc = add_consumer(base + 4, base + 3, base + 2, 5555, false,
                                        identity_pt_map(), no_extensions());

    auto endpoint_out =
        SrtpSession::create(suite, SrtpSession::Direction::outbound, k_in, &error);
    auto endpoint_wrong =
        SrtpSession::create(suite, SrtpSession::Direction::outbound, k_wrong, &error);
    auto endpoint_in = SrtpSession::create(suite, SrtpSession::Direction::inbound, k_out, &error);
    ASSERT_TRUE(endpoint_out && endpoint_wrong && endpoint_in) << error;

    for (uint16_t seq = 1; seq <= 20; ++seq) {
      RtpSpec s;
      s.seq = seq;
      s.payload.assign(300, static_cast<uint8_t>(seq));
      auto pkt = make_rtp(s);
      pkt.resize(pkt.size() + SrtpSession::kMaxTrailer);
      size_t len = pkt.size() - SrtpSession::kMaxTrailer;
      // Every other packet is followed by a forgery under a wrong key (with a fresh index:
      // libsrtp checks replay before authentication) and by a replay of itself.
      RtpSpec f = s;
      f.seq = static_cast<uint16_t>(s.seq + 30000);
      auto forged = make_rtp(f);
      forged.resize(forged.size() + SrtpSession::kMaxTrailer);
      size_t forged_len = forged.size() - SrtpSession::kMaxTrailer;
      ASSERT_EQ(endpoint_out->protect_rtp(pkt.data(), len, pkt.size()), SrtpStatus::ok);
      pkt.resize(len);
      sender.send_to(in, pkt);
      if (seq % 2 == 0) {
        ASSERT_EQ(endpoint_wrong->protect_rtp(forged.data(), forged_len, forged.size()),
                  SrtpStatus::ok);
        forged.resize(forged_len);
        sender.send_to(in, forged);
        sender.send_to(in, pkt);
      }
      auto out = receiver.receive();
      ASSERT_FALSE(out.empty()) << "seq " << seq;
      size_t out_len = out.size();
      ASSERT_EQ(endpoint_in->unprotect_rtp(out.data(), out_len), SrtpStatus::ok);
      wire::RtpPacketView v;
      ASSERT_TRUE(wire::RtpPacketView::parse(out.data(), out_len, v));
      EXPECT_EQ(v.sequence_number(), seq);
      ASSERT_EQ(v.payload_size(), 300u);
      EXPECT_EQ(v.payload()[0], static_cast<uint8_t>(seq));
    }
    EXPECT_EQ(cc.packets.get(), 20u);
    // Give the worker a moment to count the last forged packets it read.
    receiver.set_timeout(100);
    EXPECT_TRUE(receiver.receive().empty());
    TransportCounters& tc = transport_counters(producer_transport);
    EXPECT_EQ(tc.dropped.get(DropReason::srtp_auth_failed), 10u);
    EXPECT_EQ(tc.dropped.get(DropReason::srtp_replay), 10u);
  }
}

TEST_F(Forwarding, BadInputIsCountedAndDroppedWhileGoodTrafficFlows) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, true);
  add_transport(2, false, receiver.address());
  ProducerCounters& pc =
      add_producer(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
  add_consumer(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());

  RtpSpec s;
  s.seq = 1;
  sender.send_to(in, make_rtp(s));  // the comedia remote is learned from this one
  ASSERT_FALSE(receiver.receive().empty());

  std::mt19937 rng(7);
  uint64_t garbage = 0, truncated = 0, bad_rtcp = 0;
  for (int round = 0; round < 30; ++round) {
    std::vector<uint8_t> junk(1 + rng() % 200);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    junk[0] = static_cast<uint8_t>(200 + rng() % 56);  // first byte no protocol uses
    sender.send_to(in, junk);
    ++garbage;
    s.seq = static_cast<uint16_t>(2 + round);
    auto good = make_rtp(s);
    const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<long>(2 + rng() % 10));
    sender.send_to(in, cut);  // shorter than an RTP header but starts like one
    ++truncated;
    // An RTCP receiver report whose length field claims more than the datagram holds.
    std::vector<uint8_t> rr = {0x80, 201, 0x00, 0x20, 0, 0, 0x04, 0x57};
    sender.send_to(in, rr);
    ++bad_rtcp;
    sender.send_to(in, good);
    auto out = receiver.receive();
    ASSERT_FALSE(out.empty()) << "good packet " << round << " was not forwarded";
    EXPECT_EQ(wire::load_be16(&out[2]), s.seq);
  }
  TransportCounters& tc = transport_counters(0);
  EXPECT_EQ(tc.dropped.get(DropReason::not_media), garbage);
  EXPECT_EQ(tc.dropped.get(DropReason::malformed_rtp), truncated);
  EXPECT_EQ(tc.dropped.get(DropReason::malformed_rtcp), bad_rtcp);
  EXPECT_EQ(pc.packets.get(), 31u);
}

TEST_F(Forwarding, ConnectedTransportIgnoresStrangersAndUnknownSsrcs) {
  Endpoint sender, stranger, receiver;
  const SocketAddress in = add_transport(1, false, sender.address());
  add_transport(2, false, receiver.address());
  ProducerCounters& pc =
      add_producer(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
  add_consumer(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());
  RtpSpec s;
  stranger.send_to(in, make_rtp(s));
  s.ssrc = 9999;
  sender.send_to(in, make_rtp(s));
  s.ssrc = 1111;
  s.seq = 2;
  sender.send_to(in, make_rtp(s));
  auto out = receiver.receive();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(wire::load_be16(&out[2]), 2);
  TransportCounters& tc = transport_counters(0);
  EXPECT_EQ(tc.dropped.get(DropReason::unknown_remote), 1u);
  EXPECT_EQ(tc.dropped.get(DropReason::unknown_ssrc), 1u);
  EXPECT_EQ(pc.packets.get(), 1u);
}

TEST_F(Forwarding, RemovedConsumerAndTransportStopDelivery) {
  Endpoint sender, receiver;
  const SocketAddress in = add_transport(1, true);
  add_transport(2, false, receiver.address());
  add_producer(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
  add_consumer(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());
  RtpSpec s;
  sender.send_to(in, make_rtp(s));
  ASSERT_FALSE(receiver.receive().empty());
  run(RemoveConsumer{20});
  s.seq = 2;
  sender.send_to(in, make_rtp(s));
  receiver.set_timeout(200);
  EXPECT_TRUE(receiver.receive().empty());
  run(RemoveProducer{10});
  run(RemoveTransport{1});
  run(RemoveTransport{2});
  sender.send_to(in, make_rtp(s));  // the socket is closed: nothing listens any more
  EXPECT_TRUE(receiver.receive().empty());
}

TEST(SequenceTracker, CountsLossAcrossWrap) {
  SequenceTracker t;
  for (uint32_t s = 65530; s < 65536 + 10; ++s) {
    if (s == 65534 || s == 65536 + 3) continue;  // two lost
    t.update(static_cast<uint16_t>(s));
  }
  EXPECT_EQ(t.lost(), 2u);
  EXPECT_EQ(t.extended_max(), 65536u + 9);
}

}  // namespace
}  // namespace weir::dp::testing
