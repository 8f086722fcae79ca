// Simulcast and stream routing through a real worker on loopback: SSRCs learned from the
// RID, repaired-RID and MID header extensions, one spatial layer per consumer switched only
// at a key frame of the new layer, continuous numbering across switches, fallback when a
// layer stops, NACKs answered after a switch, and audio levels. Plus the pure layer choice
// and segment bookkeeping.
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include "dataplane/simulcast_layers.h"
#include "forwarding_harness.h"
#include "wire/rtcp_compound.h"
#include "wire/rtcp_picture_loss_indication.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_transport_layer_nack.h"
#include "wire/rtp_packet.h"

namespace weir::dp::testing {
namespace {

using Clock = std::chrono::steady_clock;
using Extensions = std::vector<std::pair<uint8_t, std::vector<uint8_t>>>;

TEST(SimulcastLayers, ChoosesTheHighestActiveNotAbovePreferred) {
  EXPECT_EQ(choose_spatial_layer(0b111, 3, 2), 2);
  EXPECT_EQ(choose_spatial_layer(0b111, 3, kHighestLayer), 2);
  EXPECT_EQ(choose_spatial_layer(0b111, 3, 1), 1);
  EXPECT_EQ(choose_spatial_layer(0b011, 3, 2), 1);  // layer 2 stopped
  EXPECT_EQ(choose_spatial_layer(0b101, 3, 1), 0);
  EXPECT_EQ(choose_spatial_layer(0b100, 3, 0), 2);  // nothing at or below: the lowest active
  EXPECT_EQ(choose_spatial_layer(0b110, 3, 0), 1);
  EXPECT_EQ(choose_spatial_layer(0, 3, kHighestLayer), 2);  // nothing known: the preference
  EXPECT_EQ(choose_spatial_layer(0, 3, 1), 1);
  EXPECT_EQ(choose_spatial_layer(0b1000, 3, 1), 1);  // bits past the layers mean nothing
}

TEST(SimulcastLayers, SegmentsMapOutputNumbersBackAcrossWrap) {
  LayerSegments s;
  EXPECT_EQ(s.find(5), nullptr);
  s.start(LayerSegment{65530, 10, 100, 2});
  s.start(LayerSegment{3, 20, 200, 0});  // after the wrap
  ASSERT_NE(s.find(65533), nullptr);
  EXPECT_EQ(s.find(65533)->stream, 2);
  ASSERT_NE(s.find(2), nullptr);
  EXPECT_EQ(s.find(2)->stream, 2);
  EXPECT_EQ(s.find(3)->stream, 0);
  EXPECT_EQ(s.find(40)->stream, 0);
  EXPECT_EQ(s.find(65000), nullptr);  // before the oldest kept
  for (uint16_t i = 0; i < LayerSegments::kCapacity; ++i)
    s.start(LayerSegment{static_cast<uint16_t>(100 + i), 0, 0, static_cast<uint8_t>(i % 3)});
  EXPECT_EQ(s.find(50), nullptr);  // forgotten
  EXPECT_EQ(s.find(103)->first_out_seq, 103);
}

constexpr uint8_t kMidExt = 1, kRidExt = 2, kRridExt = 3, kAudioLevelExt = 4;
constexpr uint8_t kVideoPt = 96, kRtxPt = 97;

std::vector<uint8_t> text(const char* s) { return std::vector<uint8_t>(s, s + std::strlen(s)); }

// A VP8 payload as Chrome's simulcast encoders send it: descriptor with a 15-bit picture
// id, TL0PICIDX and a TID byte, then a key or inter frame header.
std::vector<uint8_t> vp8_simulcast_payload(bool keyframe, uint16_t picture_id, uint8_t tl0,
                                           size_t size, uint8_t tid = 0) {
  std::vector<uint8_t> p(size, 0x55);
  p[0] = 0x90;  // X, S, partition 0
  p[1] = 0xE0;  // I, L, T
  p[2] = static_cast<uint8_t>(0x80 | (picture_id >> 8));
  p[3] = static_cast<uint8_t>(picture_id);
  p[4] = tl0;
  p[5] = static_cast<uint8_t>(tid << 6);
  p[6] = keyframe ? 0x00 : 0x01;
  if (keyframe) {
    p[9] = 0x9d;
    p[10] = 0x01;
    p[11] = 0x2a;
  }
  return p;
}

class Simulcast : public WorkerFixture {
 protected:
  static constexpr ProducerId kProducer = 10;
  static constexpr ConsumerId kConsumer = 20;
  static constexpr uint32_t kConsumerSsrc = 5555;

  static std::vector<uint8_t> receive_until(
      Endpoint& e, int deadline_ms, const std::function<bool(const std::vector<uint8_t>&)>& pred) {
    e.set_timeout(50);
    const auto end = Clock::now() + std::chrono::milliseconds(deadline_ms);
    while (Clock::now() < end) {
      auto d = e.receive();
      if (!d.empty() && pred(d)) return d;
    }
    return {};
  }
  static bool is_rtp(const std::vector<uint8_t>& d) {
    return wire::classify_packet(d.data(), d.size()) == wire::PacketClass::rtp;
  }
  // A PLI naming media_ssrc somewhere in an RTCP compound.
  static std::function<bool(const std::vector<uint8_t>&)> pli_for(uint32_t media_ssrc) {
    return [=](const std::vector<uint8_t>& d) {
      if (wire::classify_packet(d.data(), d.size()) != wire::PacketClass::rtcp) return false;
      bool found = false;
      wire::for_each_rtcp_packet(d.data(), d.size(),
                                 [&](uint8_t t, uint8_t f, const uint8_t* p, size_t size) {
                                   wire::RtcpPictureLossIndicationView v;
                                   if (t == wire::kRtcpTypePayloadFeedback &&
                                       f == wire::kPsfbFormatPli &&
                                       wire::RtcpPictureLossIndicationView::parse(p, size, v) &&
                                       v.media_ssrc() == media_ssrc)
                                     found = true;
                                 });
      return found;
    };
  }

  // The media SSRCs of the PLIs that reach the producer's endpoint: up to 2 s for the
  // first, then quiet_ms more for any other.
  static std::multiset<uint32_t> pli_ssrcs(Endpoint& sender, int quiet_ms) {
    std::multiset<uint32_t> out;
    sender.set_timeout(20);
    auto end = Clock::now() + std::chrono::milliseconds(2000);
    bool first = true;
    while (Clock::now() < end) {
      if (first && !out.empty()) {
        first = false;
        end = Clock::now() + std::chrono::milliseconds(quiet_ms);
      }
      const auto d = sender.receive();
      if (d.empty() || wire::classify_packet(d.data(), d.size()) != wire::PacketClass::rtcp)
        continue;
      wire::for_each_rtcp_packet(d.data(), d.size(),
                                 [&](uint8_t t, uint8_t f, const uint8_t* p, size_t size) {
                                   wire::RtcpPictureLossIndicationView v;
                                   if (t == wire::kRtcpTypePayloadFeedback &&
                                       f == wire::kPsfbFormatPli &&
                                       wire::RtcpPictureLossIndicationView::parse(p, size, v))
                                     out.insert(v.media_ssrc());
                                 });
    }
    return out;
  }

  // Three RID-only encodings r0 < r1 < r2 with RTX, MID "v", PLI, NACK and a history.
  static AddProducer simulcast_producer() {
    AddProducer p = producer_command(kProducer, 1, 0, wire::CodecKind::vp8, identity_pt_map(),
                                     no_extensions());
    p.encoding_count = 3;
    for (size_t i = 0; i < 3; ++i) {
      p.encodings[i].rid = {'r', static_cast<char>('0' + i)};
      p.encodings[i].rid_len = 2;
    }
    p.mid = {'v'};
    p.mid_len = 1;
    p.mid_ext_id = kMidExt;
    p.rid_ext_id = kRidExt;
    p.rrid_ext_id = kRridExt;
    p.rtx_apt[kRtxPt] = kVideoPt;
    p.keyframe_request = KeyFrameRequest::pli;
    p.nack = true;
    p.retransmission_packets = 64;
    return p;
  }
  static AddConsumer consumer(uint8_t preferred) {
    AddConsumer c = consumer_command(kConsumer, kProducer, 2, kConsumerSsrc, true,
                                     identity_pt_map(), no_extensions());
    c.preferred_spatial_layer = preferred;
    c.preferred_temporal_layer = kHighestLayer;
    c.nack = true;
    return c;
  }
  void setup(Endpoint& receiver, const AddProducer& p, const AddConsumer& c) {
    in_ = add_transport(1, /*comedia=*/true);
    out_ = add_transport(2, false, receiver.address());
    pc_ = &add_producer(p);
    cc_ = &add_consumer(c);
  }

  // Layer `layer`'s next packet: SSRC 100 + layer, its own numbering and clock; the RID and
  // MID extensions ride on the first packets only, as Chrome does. The payload's last byte
  // tells the layer, the one before its sequence number's low byte.
  // tid: the frame's temporal layer; TL0PICIDX counts TL0 frames, the others carry the one
  // of the TL0 frame they follow.
  void send_layer(Endpoint& sender, int layer, bool keyframe, bool with_rid = false,
                  uint8_t tid = 0) {
    Layer& l = layers_[layer];
    RtpSpec s;
    s.pt = kVideoPt;
    s.ssrc = 100u + static_cast<uint32_t>(layer);
    s.seq = l.seq++;
    s.ts = l.ts;
    l.ts += 3000;
    if (with_rid) {
      s.extensions = {{kMidExt, text("v")},
                      {kRidExt, {'r', static_cast<uint8_t>('0' + layer)}}};
    }
    if (tid == 0) ++l.tl0;
    s.payload = vp8_simulcast_payload(keyframe, l.picture_id++, l.tl0, 60, tid);
    s.payload[58] = static_cast<uint8_t>(s.seq);
    s.payload[59] = static_cast<uint8_t>(layer);
    sender.send_to(in_, make_rtp(s));
    ++sent_[layer];
  }
  void announce_layers(Endpoint& sender) {
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false, true);
    ASSERT_TRUE(wait_for([&] { return pc_->packets.get() == 3; }));
  }
  // Waits until the worker has seen everything sent.
  void settle() {
    const uint64_t total = sent_[0] + sent_[1] + sent_[2];
    ASSERT_TRUE(wait_for([&] { return pc_->packets.get() >= total; }))
        << pc_->packets.get() << " of " << total;
  }
  struct Received {
    uint16_t seq;
    uint32_t ts;
    int layer;
    uint8_t seq_low;
    uint16_t picture_id;
    uint8_t tl0;
    uint8_t tid;
  };
  std::vector<Received> drain(Endpoint& receiver, int wait_ms = 100) {
    std::vector<Received> out;
    receiver.set_timeout(wait_ms);
    for (;;) {
      auto d = receiver.receive();
      if (d.empty()) return out;
      wire::RtpPacketView v;
      if (!is_rtp(d) || !wire::RtpPacketView::parse(d.data(), d.size(), v)) continue;
      EXPECT_EQ(v.ssrc(), kConsumerSsrc);
      wire::Vp8Descriptor vp8;
      EXPECT_TRUE(wire::parse_vp8_descriptor(v.payload(), v.payload_size(), vp8));
      EXPECT_TRUE(vp8.long_picture_id);
      out.push_back({v.sequence_number(), v.timestamp(), v.payload()[v.payload_size() - 1],
                     v.payload()[v.payload_size() - 2], vp8.picture_id, vp8.tl0_pic_idx,
                     vp8.temporal_id});
    }
  }
  static void expect_continuous(const std::vector<Received>& r) {
    for (size_t i = 1; i < r.size(); ++i) {
      EXPECT_EQ(static_cast<uint16_t>(r[i].seq - r[i - 1].seq), 1) << "at " << i;
      EXPECT_GT(static_cast<int32_t>(r[i].ts - r[i - 1].ts), 0) << "at " << i;
      // One packet per frame here: the picture id and TL0PICIDX go up by one each time.
      EXPECT_EQ((r[i].picture_id - r[i - 1].picture_id) & 0x7FFF, 1) << "at " << i;
      EXPECT_EQ(static_cast<uint8_t>(r[i].tl0 - r[i - 1].tl0), 1) << "at " << i;
    }
  }
  std::vector<uint8_t> nack_packet(std::vector<uint16_t> seqs) {
    wire::NackPair pairs[16];
    const size_t n = wire::nack_pairs_from_sequence_numbers(seqs, pairs);
    std::vector<uint8_t> out(256);
    out.resize(wire::write_rtcp_transport_layer_nack(out.data(), out.size(), 77, kConsumerSsrc,
                                                     std::span(pairs, n)));
    return out;
  }

  struct Layer {
    uint16_t seq;
    uint32_t ts;
    uint16_t picture_id;  // each encoder counts its own
    uint8_t tl0;
  };
  Layer layers_[3] = {{1000, 10'000, 100, 5}, {5000, 500'000, 9000, 77},
                      {30000, 9'000'000, 32760, 250}};
  uint64_t sent_[3] = {0, 0, 0};
  SocketAddress in_, out_;
  ProducerCounters* pc_ = nullptr;
  ConsumerCounters* cc_ = nullptr;
};

TEST_F(Simulcast, RidOnlyEncodingsAreLearnedAndOnlyThePreferredLayerIsForwarded) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  EXPECT_EQ(transport_counters(0).dropped.get(DropReason::unknown_ssrc), 0u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pc_->encoding_packets[i].get(), 1u) << i;
  // The consumer waits for layer 2's key frame, and weir asks layer 2's SSRC for one.
  EXPECT_FALSE(receive_until(sender, 2000, pli_for(102)).empty());
  // Later packets carry no RID: routed by the learned SSRC.
  for (int round = 0; round < 3; ++round)
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  EXPECT_EQ(transport_counters(0).dropped.get(DropReason::unknown_ssrc), 0u);
  EXPECT_TRUE(drain(receiver).empty());
  EXPECT_EQ(cc_->current_spatial_layer.get(), 0u);
  // Key frames on every layer: only layer 2's starts the consumer.
  for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, true);
  for (int round = 0; round < 5; ++round)
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  const auto got = drain(receiver);
  ASSERT_EQ(got.size(), 6u);
  for (const auto& r : got) EXPECT_EQ(r.layer, 2);
  expect_continuous(got);
  EXPECT_EQ(cc_->current_spatial_layer.get(), 3u);
  EXPECT_GE(cc_->other_layer_packets.get(), 12u);
  EXPECT_EQ(cc_->dropped.get(DropReason::too_large) + cc_->dropped.get(DropReason::no_buffer), 0u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(pc_->encoding_packets[i].get(), sent_[i]) << i;
}

TEST_F(Simulcast, RtxSsrcIsLearnedFromTheRepairedRid) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  const uint16_t lost_seq = layers_[2].seq++;  // a layer-2 packet that never arrives
  layers_[2].ts += 3000;
  const uint16_t lost_picture_id = layers_[2].picture_id++;
  const uint8_t lost_tl0 = ++layers_[2].tl0;
  send_layer(sender, 2, false);
  settle();
  ASSERT_EQ(drain(receiver).size(), 2u);
  // The RTX stream's first packet names the encoding it repairs by its repaired RID.
  RtpSpec rtx;
  rtx.pt = kRtxPt;
  rtx.ssrc = 202;
  rtx.seq = 7;
  rtx.ts = layers_[2].ts - 6000;
  rtx.extensions = {{kMidExt, text("v")}, {kRridExt, text("r2")}};
  std::vector<uint8_t> original = vp8_simulcast_payload(false, lost_picture_id, lost_tl0, 60);
  original[58] = static_cast<uint8_t>(lost_seq);
  original[59] = 2;
  rtx.payload = {static_cast<uint8_t>(lost_seq >> 8), static_cast<uint8_t>(lost_seq)};  // OSN
  rtx.payload.insert(rtx.payload.end(), original.begin(), original.end());
  sender.send_to(in_, make_rtp(rtx));
  ASSERT_TRUE(wait_for([&] { return pc_->retransmitted.get() == 1; }));
  const auto got = drain(receiver);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].layer, 2);
  EXPECT_EQ(got[0].seq_low, static_cast<uint8_t>(lost_seq));
  EXPECT_EQ(transport_counters(0).dropped.get(DropReason::unknown_ssrc), 0u);
  // Again without the extension: the learned RTX SSRC is routed.
  rtx.extensions.clear();
  rtx.seq = 8;
  sender.send_to(in_, make_rtp(rtx));
  ASSERT_TRUE(wait_for([&] { return pc_->retransmitted.get() == 2; }));
  EXPECT_EQ(transport_counters(0).dropped.get(DropReason::unknown_ssrc), 0u);
}

TEST_F(Simulcast, PreferringALowerLayerSwitchesAtItsKeyFrameWithContinuousNumbers) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  for (int i = 0; i < 4; ++i)
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  auto before = drain(receiver);
  ASSERT_EQ(before.size(), 5u);
  receive_until(sender, 300, [](const std::vector<uint8_t>&) { return false; });  // drop PLIs

  run(SetConsumerPreferredLayers{kConsumer, 0, kHighestLayer});
  EXPECT_FALSE(receive_until(sender, 1000, pli_for(100)).empty())
      << "no key frame asked of layer 0";
  // Not before layer 0's key frame: layer 2 keeps flowing, layer 0's deltas are skipped.
  for (int i = 0; i < 3; ++i)
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  auto middle = drain(receiver);
  ASSERT_EQ(middle.size(), 3u);
  for (const auto& r : middle) EXPECT_EQ(r.layer, 2);
  EXPECT_EQ(cc_->current_spatial_layer.get(), 3u);
  // Layer 1's key frame is no reason to switch; layer 0's is.
  send_layer(sender, 1, true);
  send_layer(sender, 2, false);
  send_layer(sender, 0, true);
  for (int i = 0; i < 3; ++i)
    for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  auto after = drain(receiver);
  ASSERT_EQ(after.size(), 5u);  // layer 2 once more, then layer 0's key frame and 3 more
  EXPECT_EQ(after[0].layer, 2);
  for (size_t i = 1; i < after.size(); ++i) EXPECT_EQ(after[i].layer, 0) << i;
  EXPECT_EQ(cc_->current_spatial_layer.get(), 1u);

  std::vector<Received> all = before;
  all.insert(all.end(), middle.begin(), middle.end());
  all.insert(all.end(), after.begin(), after.end());
  expect_continuous(all);
}

TEST_F(Simulcast, ALayerThatStopsIsLeftForTheNextActiveOne) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  send_layer(sender, 2, false);
  settle();
  ASSERT_EQ(drain(receiver).size(), 2u);
  receive_until(sender, 100, [](const std::vector<uint8_t>&) { return false; });
  // The browser stops layer 2 (bandwidth, CPU): layers 0 and 1 go on for over a second.
  const auto end = Clock::now() + std::chrono::milliseconds(1300);
  while (Clock::now() < end) {
    send_layer(sender, 0, false);
    send_layer(sender, 1, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  settle();
  EXPECT_TRUE(drain(receiver, 20).empty());
  EXPECT_FALSE(receive_until(sender, 1000, pli_for(101)).empty()) << "layer 1 not asked";
  send_layer(sender, 1, true);
  send_layer(sender, 1, false);
  send_layer(sender, 0, false);
  settle();
  const auto got = drain(receiver);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].layer, 1);
  EXPECT_EQ(cc_->current_spatial_layer.get(), 2u);
}

TEST_F(Simulcast, NackAfterASwitchIsAnsweredWithThePacketThatWasSent) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  for (int i = 0; i < 3; ++i) send_layer(sender, 2, false);
  settle();
  const auto on_layer2 = drain(receiver);
  ASSERT_EQ(on_layer2.size(), 4u);
  run(SetConsumerPreferredLayers{kConsumer, 0, kHighestLayer});
  send_layer(sender, 0, true);
  for (int i = 0; i < 3; ++i) send_layer(sender, 0, false);
  settle();
  const auto on_layer0 = drain(receiver);
  ASSERT_EQ(on_layer0.size(), 4u);
  ASSERT_EQ(on_layer0[0].layer, 0);

  receiver.send_to(out_, nack_packet({on_layer2[2].seq, on_layer0[1].seq}));
  ASSERT_TRUE(wait_for([&] { return cc_->retransmitted.get() == 2; }));
  auto again = drain(receiver);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].seq, on_layer2[2].seq);
  EXPECT_EQ(again[0].ts, on_layer2[2].ts);
  EXPECT_EQ(again[0].layer, 2);
  EXPECT_EQ(again[0].seq_low, on_layer2[2].seq_low);
  EXPECT_EQ(again[0].picture_id, on_layer2[2].picture_id);
  EXPECT_EQ(again[0].tl0, on_layer2[2].tl0);
  EXPECT_EQ(again[1].seq, on_layer0[1].seq);
  EXPECT_EQ(again[1].ts, on_layer0[1].ts);
  EXPECT_EQ(again[1].layer, 0);
  EXPECT_EQ(again[1].seq_low, on_layer0[1].seq_low);
  EXPECT_EQ(again[1].picture_id, on_layer0[1].picture_id);
  EXPECT_EQ(again[1].tl0, on_layer0[1].tl0);
  // A number never sent is not answered.
  receiver.send_to(out_, nack_packet({static_cast<uint16_t>(on_layer0[3].seq + 5)}));
  EXPECT_TRUE(drain(receiver, 300).empty());
}

TEST_F(Simulcast, PausedAndResumedConsumerRestartsAtTheTargetsKeyFrame) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  settle();
  const auto first = drain(receiver);
  ASSERT_EQ(first.size(), 1u);
  run(SetConsumerPaused{kConsumer, true});
  send_layer(sender, 2, false);
  settle();
  run(SetConsumerPaused{kConsumer, false});
  send_layer(sender, 2, false);  // not a key frame: waits
  send_layer(sender, 2, true);
  settle();
  const auto got = drain(receiver);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(static_cast<uint16_t>(got[0].seq - first[0].seq), 1);
}

TEST_F(Simulcast, ReportsAndNacksArePerEncodingSsrc) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  layers_[1].seq += 2;  // layer 1 loses two packets; the others lose nothing
  for (int layer = 0; layer < 3; ++layer) send_layer(sender, layer, false);
  settle();
  std::set<uint32_t> reported;
  std::vector<uint16_t> nacked;
  uint32_t nacked_ssrc = 0;
  const auto end = Clock::now() + std::chrono::milliseconds(3000);
  sender.set_timeout(50);
  while (Clock::now() < end && (reported.size() < 3 || nacked.empty())) {
    const auto d = sender.receive();
    if (d.empty() || wire::classify_packet(d.data(), d.size()) != wire::PacketClass::rtcp)
      continue;
    wire::for_each_rtcp_packet(
        d.data(), d.size(), [&](uint8_t type, uint8_t fmt, const uint8_t* p, size_t size) {
          wire::RtcpReceiverReportView rr;
          if (type == wire::kRtcpTypeReceiverReport &&
              wire::RtcpReceiverReportView::parse(p, size, rr)) {
            for (uint8_t i = 0; i < rr.report_count(); ++i) reported.insert(rr.report(i).ssrc);
          }
          wire::RtcpTransportLayerNackView nack;
          if (type == wire::kRtcpTypeTransportFeedback && fmt == wire::kRtpfbFormatNack &&
              nacked.empty() && wire::RtcpTransportLayerNackView::parse(p, size, nack)) {
            nacked_ssrc = nack.media_ssrc();
            nack.for_each_lost([&](uint16_t seq) { nacked.push_back(seq); });
          }
        });
  }
  EXPECT_EQ(reported, (std::set<uint32_t>{100, 101, 102}));
  EXPECT_EQ(nacked_ssrc, 101u);
  EXPECT_EQ(nacked, (std::vector<uint16_t>{5002, 5003}));
  EXPECT_EQ(pc_->lost.get(), 2u);  // the sum over the streams
}

TEST_F(Simulcast, ConsumerKeyFrameRequestsGoToTheLayerItForwards) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(1));
  announce_layers(sender);
  send_layer(sender, 1, true);
  settle();
  ASSERT_EQ(drain(receiver).size(), 1u);
  // Past the throttle of the request that started the consumer.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  receive_until(sender, 50, [](const std::vector<uint8_t>&) { return false; });
  run(RequestConsumerKeyFrame{kConsumer});
  EXPECT_EQ(pli_ssrcs(sender, 200), (std::multiset<uint32_t>{101}));
  // The consumer's own PLI, on its SSRC, once the throttle allows another.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  std::vector<uint8_t> pli(12);
  wire::write_rtcp_picture_loss_indication(pli.data(), pli.size(), 77, kConsumerSsrc);
  receiver.send_to(out_, pli);
  ASSERT_TRUE(wait_for([&] { return cc_->keyframe_requests.get() == 1; }));
  EXPECT_EQ(pli_ssrcs(sender, 200), (std::multiset<uint32_t>{101}));
}

TEST_F(Simulcast, H264SwitchesAtTheKeyFramesFirstPacket) {
  Endpoint sender, receiver;
  AddProducer p = simulcast_producer();
  p.codec = wire::CodecKind::h264;
  p.encoding_count = 2;
  setup(receiver, p, consumer(1));
  // Chrome's H.264 key frame: STAP-A with SPS and PPS, then the IDR slice in FU-A pieces.
  const std::vector<uint8_t> stap = {0x78, 0x00, 0x04, 0x67, 0x42, 0xe0, 0x1f,
                                     0x00, 0x04, 0x68, 0xce, 0x3c, 0x80};
  const std::vector<uint8_t> idr_start = {0x7c, 0x85, 0x88, 0x84, 0x00};
  const std::vector<uint8_t> idr_middle = {0x7c, 0x05, 0x12, 0x34, 0x00};
  const std::vector<uint8_t> delta = {0x41, 0x9a, 0x02, 0x00};
  uint16_t seq[2] = {100, 700};
  auto send = [&](int layer, const std::vector<uint8_t>& payload, bool with_rid = false) {
    RtpSpec s;
    s.pt = kVideoPt;
    s.ssrc = 100u + static_cast<uint32_t>(layer);
    s.seq = seq[layer]++;
    s.ts = 1000u * s.seq;
    if (with_rid)
      s.extensions = {{kMidExt, text("v")}, {kRidExt, {'r', static_cast<uint8_t>('0' + layer)}}};
    s.payload = payload;
    s.payload.push_back(static_cast<uint8_t>(layer));
    sender.send_to(in_, make_rtp(s));
  };
  send(0, delta, true);
  send(1, delta, true);
  send(1, idr_middle);  // the middle of a key frame starts nothing
  send(1, stap);
  send(1, idr_start);
  send(1, idr_middle);
  send(0, delta);
  ASSERT_TRUE(wait_for([&] { return pc_->packets.get() == 7; }));
  std::vector<std::pair<uint16_t, int>> got;  // (seq, layer)
  auto collect = [&] {
    receiver.set_timeout(100);
    for (auto d = receiver.receive(); !d.empty(); d = receiver.receive()) {
      wire::RtpPacketView v;
      ASSERT_TRUE(wire::RtpPacketView::parse(d.data(), d.size(), v));
      got.emplace_back(v.sequence_number(), v.payload()[v.payload_size() - 1]);
    }
  };
  collect();
  ASSERT_EQ(got.size(), 3u);  // STAP-A, IDR start, IDR middle of layer 1
  run(SetConsumerPreferredLayers{kConsumer, 0, kHighestLayer});
  send(0, idr_middle);
  send(0, stap);
  send(0, idr_start);
  send(1, delta);
  send(0, delta);
  ASSERT_TRUE(wait_for([&] { return pc_->packets.get() == 12; }));
  collect();
  ASSERT_EQ(got.size(), 6u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].second, i < 3 ? 1 : 0) << i;
    if (i > 0) {
      EXPECT_EQ(static_cast<uint16_t>(got[i].first - got[i - 1].first), 1) << i;
    }
  }
}

TEST_F(Simulcast, TemporalLayersAboveThePreferredOneAreLeftOutWithoutGaps) {
  Endpoint sender, receiver;
  AddConsumer c = consumer(2);
  c.preferred_temporal_layer = 0;
  setup(receiver, simulcast_producer(), c);
  announce_layers(sender);
  // L1T3 as libvpx sends it: TIDs 0 2 1 2 0 2 1 2 0, one packet per frame here.
  const uint8_t pattern[] = {0, 2, 1, 2, 0, 2, 1, 2, 0};
  for (size_t i = 0; i < sizeof pattern; ++i) send_layer(sender, 2, i == 0, false, pattern[i]);
  settle();
  auto got = drain(receiver);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& r : got) EXPECT_EQ(r.tid, 0);
  expect_continuous(got);  // numbers, picture ids and TL0PICIDX all +1: no holes
  // All temporal layers again: from the next TL0 frame on, not before.
  run(SetConsumerPreferredLayers{kConsumer, 2, kHighestLayer});
  const uint8_t upswitch[] = {2, 1, 0, 2, 1, 2};
  for (uint8_t tid : upswitch) send_layer(sender, 2, false, false, tid);
  settle();
  auto more = drain(receiver);
  ASSERT_EQ(more.size(), 4u);
  EXPECT_EQ(more[0].tid, 0);
  EXPECT_EQ(more[1].tid, 2);
  EXPECT_EQ(more[2].tid, 1);
  std::vector<Received> all = got;
  all.insert(all.end(), more.begin(), more.end());
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(static_cast<uint16_t>(all[i].seq - all[i - 1].seq), 1) << i;
    EXPECT_EQ((all[i].picture_id - all[i - 1].picture_id) & 0x7FFF, 1) << i;
    EXPECT_GT(static_cast<int32_t>(all[i].ts - all[i - 1].ts), 0) << i;
  }
  // A NACK for a packet sent after a gap finds the right original.
  receiver.send_to(out_, nack_packet({got[1].seq}));
  ASSERT_TRUE(wait_for([&] { return cc_->retransmitted.get() == 1; }));
  const auto again = drain(receiver);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, got[1].seq);
  EXPECT_EQ(again[0].seq_low, got[1].seq_low);
  EXPECT_EQ(again[0].picture_id, got[1].picture_id);
  EXPECT_EQ(again[0].ts, got[1].ts);
}

TEST_F(Simulcast, APacketOlderThanASwitchIsNotNumberedIntoTheOldLayer) {
  Endpoint sender, receiver;
  setup(receiver, simulcast_producer(), consumer(2));
  announce_layers(sender);
  send_layer(sender, 2, true);
  send_layer(sender, 2, false);
  settle();
  ASSERT_EQ(drain(receiver).size(), 2u);
  run(SetConsumerPreferredLayers{kConsumer, 0, kHighestLayer});
  const uint16_t late_seq = layers_[0].seq++;  // sent only after the key frame behind it
  const uint16_t late_picture_id = layers_[0].picture_id++;
  send_layer(sender, 0, true);
  settle();
  RtpSpec late;
  late.pt = kVideoPt;
  late.ssrc = 100;
  late.seq = late_seq;
  late.ts = layers_[0].ts - 6000;
  late.payload = vp8_simulcast_payload(false, late_picture_id, layers_[0].tl0, 60);
  sender.send_to(in_, make_rtp(late));
  ASSERT_TRUE(wait_for([&] { return cc_->late_packets.get() == 1; }));
  send_layer(sender, 0, false);
  settle();
  const auto got = drain(receiver);
  ASSERT_EQ(got.size(), 2u);  // the key frame and the one after it
  EXPECT_EQ(static_cast<uint16_t>(got[1].seq - got[0].seq), 1);
}

TEST_F(Simulcast, MidOnlyStreamIsLearnedFromItsMid) {
  Endpoint sender, receiver;
  in_ = add_transport(1, true);
  out_ = add_transport(2, false, receiver.address());
  AddProducer p = producer_command(kProducer, 1, 0, wire::CodecKind::vp8, identity_pt_map(),
                                   no_extensions());
  p.mid = {'a', '1'};
  p.mid_len = 2;
  p.mid_ext_id = kMidExt;
  pc_ = &add_producer(p);
  cc_ = &add_consumer(consumer_command(kConsumer, kProducer, 2, kConsumerSsrc, false,
                                       identity_pt_map(), no_extensions()));
  RtpSpec s;
  s.ssrc = 4242;
  s.extensions = {{kMidExt, text("zz")}};  // another m-section's MID: not this producer
  sender.send_to(in_, make_rtp(s));
  ASSERT_TRUE(wait_for([&] {
    return transport_counters(0).dropped.get(DropReason::unknown_ssrc) == 1;
  }));
  s.extensions = {{kMidExt, text("a1")}};
  s.seq = 2;
  sender.send_to(in_, make_rtp(s));
  s.extensions.clear();
  s.seq = 3;
  sender.send_to(in_, make_rtp(s));
  ASSERT_TRUE(wait_for([&] { return pc_->packets.get() == 2; }));
  EXPECT_EQ(drain(receiver).size(), 2u);
  EXPECT_EQ(transport_counters(0).dropped.get(DropReason::unknown_ssrc), 1u);
  // A second SSRC with the same MID is not taken: the stream is known.
  s.ssrc = 4343;
  s.extensions = {{kMidExt, text("a1")}};
  sender.send_to(in_, make_rtp(s));
  ASSERT_TRUE(wait_for([&] {
    return transport_counters(0).dropped.get(DropReason::unknown_ssrc) == 2;
  }));
}

TEST_F(Simulcast, AudioLevelsAreSummed) {
  Endpoint sender, receiver;
  in_ = add_transport(1, true);
  AddProducer p = producer_command(kProducer, 1, 3333, wire::CodecKind::opus, identity_pt_map(),
                                   no_extensions());
  p.audio_level_ext_id = kAudioLevelExt;
  pc_ = &add_producer(p);
  const uint8_t levels[] = {0x80 | 30, 50, 127};  // the V bit is not part of the level
  uint16_t seq = 1;
  for (uint8_t level : levels) {
    RtpSpec s;
    s.pt = 111;
    s.ssrc = 3333;
    s.seq = seq++;
    s.extensions = {{kAudioLevelExt, {level}}};
    sender.send_to(in_, make_rtp(s));
  }
  RtpSpec none;  // no level: not counted
  none.pt = 111;
  none.ssrc = 3333;
  none.seq = seq++;
  sender.send_to(in_, make_rtp(none));
  ASSERT_TRUE(wait_for([&] { return pc_->packets.get() == 4; }));
  EXPECT_EQ(pc_->audio_level_packets.get(), 3u);
  EXPECT_EQ(pc_->audio_level_sum.get(), 30u + 50u + 127u);
}

TEST_F(Simulcast, TwoSimulcastProducersWithTheSameRidsAreToldApartByMid) {
  Endpoint sender, receiver;
  in_ = add_transport(1, true);
  out_ = add_transport(2, false, receiver.address());
  AddProducer camera = simulcast_producer();
  AddProducer screen = simulcast_producer();
  screen.id = kProducer + 1;
  screen.mid = {'s'};
  pc_ = &add_producer(camera);
  ProducerCounters& screen_counters = add_producer(screen);
  RtpSpec s;
  s.ssrc = 900;
  s.extensions = {{kMidExt, text("s")}, {kRidExt, text("r1")}};
  sender.send_to(in_, make_rtp(s));
  s.ssrc = 100;
  s.extensions = {{kMidExt, text("v")}, {kRidExt, text("r1")}};
  sender.send_to(in_, make_rtp(s));
  ASSERT_TRUE(wait_for([&] { return screen_counters.packets.get() == 1 && pc_->packets.get() == 1; }));
  EXPECT_EQ(screen_counters.encoding_packets[1].get(), 1u);
  EXPECT_EQ(pc_->encoding_packets[1].get(), 1u);
}

}  // namespace
}  // namespace weir::dp::testing
