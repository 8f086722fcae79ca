// The RTCP a real worker sends and answers, seen from real UDP endpoints on loopback:
// retransmission from the producer's history (as is and as RTX), NACKs to producers for
// their gaps, RTX repairs from producers, receiver and sender reports with SDES,
// transport-cc feedback for producers, transport-wide numbering and feedback for
// consumers, REMB, and key-frame requests.
#include <chrono>
#include <functional>
#include <thread>

#include "dataplane/receive_side_bandwidth_estimator.h"
#include "forwarding_harness.h"
#include "wire/rtcp_compound.h"
#include "wire/rtcp_picture_loss_indication.h"
#include "wire/rtcp_receiver_estimated_max_bitrate.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sdes.h"
#include "wire/rtcp_sender_report.h"
#include "wire/rtcp_transport_layer_cc.h"
#include "wire/rtcp_transport_layer_nack.h"
#include "wire/rtp_packet.h"

namespace weir::dp::testing {
namespace {

using wire::CodecKind;
using Clock = std::chrono::steady_clock;

class ForwardingRtcp : public WorkerFixture {
 protected:
  // Receives until pred accepts a datagram or deadline_ms passes; the datagram or empty.
  static std::vector<uint8_t> receive_until(
      Endpoint& e, int deadline_ms, const std::function<bool(const std::vector<uint8_t>&)>& pred) {
    e.set_timeout(100);
    const auto end = Clock::now() + std::chrono::milliseconds(deadline_ms);
    while (Clock::now() < end) {
      auto d = e.receive();
      if (!d.empty() && pred(d)) return d;
    }
    return {};
  }
  static bool is_rtcp(const std::vector<uint8_t>& d) {
    return wire::classify_packet(d.data(), d.size()) == wire::PacketClass::rtcp;
  }
  static bool is_rtp(const std::vector<uint8_t>& d) {
    return wire::classify_packet(d.data(), d.size()) == wire::PacketClass::rtp;
  }
  // The first packet of type/fmt in an RTCP compound, or empty.
  static std::vector<uint8_t> find_rtcp(const std::vector<uint8_t>& d, uint8_t type, int fmt = -1) {
    std::vector<uint8_t> found;
    wire::for_each_rtcp_packet(d.data(), d.size(),
                               [&](uint8_t t, uint8_t f, const uint8_t* p, size_t size) {
                                 if (found.empty() && t == type && (fmt < 0 || f == fmt))
                                   found.assign(p, p + size);
                               });
    return found;
  }
  static std::function<bool(const std::vector<uint8_t>&)> has_rtcp(uint8_t type, int fmt = -1) {
    return [=](const std::vector<uint8_t>& d) {
      return is_rtcp(d) && !find_rtcp(d, type, fmt).empty();
    };
  }
  std::vector<uint8_t> nack_packet(uint32_t media_ssrc, std::vector<uint16_t> seqs) {
    wire::NackPair pairs[16];
    const size_t n = wire::nack_pairs_from_sequence_numbers(seqs, pairs);
    std::vector<uint8_t> out(256);
    out.resize(wire::write_rtcp_transport_layer_nack(out.data(), out.size(), 77, media_ssrc,
                                                     std::span(pairs, n)));
    return out;
  }

  // A producer (ssrc 1111, PT 96) on transport 1 and a consumer (ssrc 5555) on transport 2.
  void setup(Endpoint& receiver, AddProducer producer, AddConsumer consumer) {
    in_ = add_transport(1, /*comedia=*/true);
    out_ = add_transport(2, false, receiver.address());
    pc_ = &add_producer(producer);
    cc_ = &add_consumer(consumer);
  }
  AddProducer video_producer() {
    AddProducer p =
        producer_command(10, 1, 1111, CodecKind::other, identity_pt_map(), no_extensions());
    p.retransmission_packets = 64;
    return p;
  }
  AddConsumer video_consumer() {
    return consumer_command(20, 10, 2, 5555, false, identity_pt_map(), no_extensions());
  }
  void send(Endpoint& sender, uint16_t seq,
            std::vector<std::pair<uint8_t, std::vector<uint8_t>>> ext = {}) {
    RtpSpec s;
    s.seq = seq;
    s.ts = 1000u + seq * 3000u;
    s.extensions = std::move(ext);
    s.payload = std::vector<uint8_t>(100, static_cast<uint8_t>(seq));
    sender.send_to(in_, make_rtp(s));
  }

  SocketAddress in_, out_;
  ProducerCounters* pc_ = nullptr;
  ConsumerCounters* cc_ = nullptr;
};

TEST_F(ForwardingRtcp, ConsumerNackIsAnsweredFromTheProducersHistory) {
  Endpoint sender, receiver;
  AddConsumer consumer = video_consumer();
  consumer.nack = true;
  setup(receiver, video_producer(), consumer);
  std::vector<uint16_t> consumer_seqs;
  for (uint16_t seq = 100; seq < 105; ++seq) {
    send(sender, seq);
    const auto d = receive_until(receiver, 2000, is_rtp);
    ASSERT_FALSE(d.empty());
    consumer_seqs.push_back(wire::load_be16(&d[2]));
  }
  receiver.send_to(out_, nack_packet(5555, {consumer_seqs[2]}));
  const auto again = receive_until(receiver, 2000, is_rtp);
  ASSERT_FALSE(again.empty());
  wire::RtpPacketView v;
  ASSERT_TRUE(wire::RtpPacketView::parse(again.data(), again.size(), v));
  EXPECT_EQ(v.ssrc(), 5555u);
  EXPECT_EQ(v.sequence_number(), consumer_seqs[2]);  // resent as it was
  EXPECT_EQ(v.payload()[0], 102);
  EXPECT_EQ(cc_->nacked.get(), 1u);
  EXPECT_EQ(cc_->retransmitted.get(), 1u);
  // A packet the history never had is not invented.
  receiver.send_to(out_, nack_packet(5555, {static_cast<uint16_t>(consumer_seqs[4] + 10)}));
  EXPECT_TRUE(receive_until(receiver, 300, is_rtp).empty());
}

TEST_F(ForwardingRtcp, ConsumerWithRtxGetsRfc4588Retransmissions) {
  Endpoint sender, receiver;
  AddConsumer consumer = video_consumer();
  consumer.nack = true;
  consumer.rtx_ssrc = 5556;
  consumer.rtx_payload_type = 97;
  setup(receiver, video_producer(), consumer);
  send(sender, 7);
  const auto first = receive_until(receiver, 2000, is_rtp);
  ASSERT_FALSE(first.empty());
  const uint16_t seq = wire::load_be16(&first[2]);
  receiver.send_to(out_, nack_packet(5555, {seq}));
  const auto rtx = receive_until(receiver, 2000, is_rtp);
  ASSERT_FALSE(rtx.empty());
  wire::RtpPacketView v;
  ASSERT_TRUE(wire::RtpPacketView::parse(rtx.data(), rtx.size(), v));
  EXPECT_EQ(v.ssrc(), 5556u);
  EXPECT_EQ(v.payload_type(), 97);
  ASSERT_GE(v.payload_size(), 3u);
  EXPECT_EQ(wire::load_be16(v.payload()), seq);  // OSN
  EXPECT_EQ(v.payload()[2], 7);                  // then the original payload
  EXPECT_EQ(v.payload_size(), 102u);
}

TEST_F(ForwardingRtcp, ProducerGapsAreNackedAndRtxRepairsThem) {
  Endpoint sender, receiver;
  AddProducer producer = video_producer();
  producer.nack = true;
  producer.rtx_ssrc = 1112;
  producer.rtx_apt[97] = 96;
  setup(receiver, producer, video_consumer());
  send(sender, 1);
  send(sender, 2);
  send(sender, 5);  // 3 and 4 lost
  const auto nack_datagram = receive_until(
      sender, 3000, has_rtcp(wire::kRtcpTypeTransportFeedback, wire::kRtpfbFormatNack));
  ASSERT_FALSE(nack_datagram.empty()) << "no NACK reached the producer";
  const auto nack =
      find_rtcp(nack_datagram, wire::kRtcpTypeTransportFeedback, wire::kRtpfbFormatNack);
  wire::RtcpTransportLayerNackView view;
  ASSERT_TRUE(wire::RtcpTransportLayerNackView::parse(nack.data(), nack.size(), view));
  EXPECT_EQ(view.media_ssrc(), 1111u);
  std::vector<uint16_t> lost;
  view.for_each_lost([&](uint16_t s) { lost.push_back(s); });
  EXPECT_EQ(lost, (std::vector<uint16_t>{3, 4}));

  // The producer repairs 3 with RTX: consumers get the original packet.
  for (int i = 0; i < 3; ++i) receive_until(receiver, 300, is_rtp);  // 1, 2, 5
  RtpSpec rtx;
  rtx.pt = 97;
  rtx.ssrc = 1112;
  rtx.seq = 900;
  rtx.ts = 1000u + 3 * 3000u;
  rtx.payload = std::vector<uint8_t>(102, 3);
  rtx.payload[0] = 0;
  rtx.payload[1] = 3;  // OSN 3
  sender.send_to(in_, make_rtp(rtx));
  const auto repaired = receive_until(receiver, 2000, is_rtp);
  ASSERT_FALSE(repaired.empty());
  wire::RtpPacketView v;
  ASSERT_TRUE(wire::RtpPacketView::parse(repaired.data(), repaired.size(), v));
  EXPECT_EQ(v.ssrc(), 5555u);
  EXPECT_EQ(v.payload_type(), 96);
  EXPECT_EQ(v.payload_size(), 100u);
  EXPECT_EQ(v.payload()[0], 3);
  EXPECT_EQ(pc_->retransmitted.get(), 1u);
}

TEST_F(ForwardingRtcp, ReceiverReportsTellTheProducerAboutItsStream) {
  Endpoint sender, receiver;
  setup(receiver, video_producer(), video_consumer());
  for (uint16_t seq = 10; seq < 20; ++seq) {
    if (seq != 15) send(sender, seq);
  }
  const auto d = receive_until(sender, 4000, has_rtcp(wire::kRtcpTypeReceiverReport));
  ASSERT_FALSE(d.empty()) << "no receiver report within 4 s";
  const auto rr_bytes = find_rtcp(d, wire::kRtcpTypeReceiverReport);
  wire::RtcpReceiverReportView rr;
  ASSERT_TRUE(wire::RtcpReceiverReportView::parse(rr_bytes.data(), rr_bytes.size(), rr));
  ASSERT_EQ(rr.report_count(), 1);
  const auto block = rr.report(0);
  EXPECT_EQ(block.ssrc, 1111u);
  EXPECT_EQ(block.extended_highest_sequence, 19u);
  EXPECT_EQ(block.cumulative_lost, 1);
  EXPECT_GT(block.fraction_lost, 0);
}

TEST_F(ForwardingRtcp, SenderReportsAndCnameReachTheConsumer) {
  Endpoint sender, receiver;
  AddConsumer consumer = video_consumer();
  const std::string cname = "weir-test-cname";
  std::copy(cname.begin(), cname.end(), consumer.cname.begin());
  consumer.cname_len = static_cast<uint8_t>(cname.size());
  setup(receiver, video_producer(), consumer);
  for (uint16_t seq = 1; seq <= 5; ++seq) send(sender, seq);
  const auto d = receive_until(receiver, 4000, has_rtcp(wire::kRtcpTypeSenderReport));
  ASSERT_FALSE(d.empty()) << "no sender report within 4 s";
  const auto sr_bytes = find_rtcp(d, wire::kRtcpTypeSenderReport);
  wire::RtcpSenderReportView sr;
  ASSERT_TRUE(wire::RtcpSenderReportView::parse(sr_bytes.data(), sr_bytes.size(), sr));
  EXPECT_EQ(sr.ssrc(), 5555u);
  EXPECT_EQ(sr.sender_info().packet_count, 5u);
  EXPECT_EQ(sr.sender_info().octet_count, 500u);
  const auto sdes = find_rtcp(d, wire::kRtcpTypeSourceDescription);
  ASSERT_FALSE(sdes.empty());
  const std::string text(sdes.begin(), sdes.end());
  EXPECT_NE(text.find(cname), std::string::npos);

  // The consumer's RR on that SR gives weir a round-trip time.
  wire::RtcpReceptionReport block;
  block.ssrc = 5555;
  block.last_sender_report = static_cast<uint32_t>(sr.sender_info().ntp_timestamp >> 16);
  block.delay_since_last_sender_report = 0;
  std::vector<uint8_t> rr(64);
  rr.resize(wire::write_rtcp_receiver_report(rr.data(), rr.size(), 77, std::span(&block, 1)));
  receiver.send_to(out_, rr);
  for (int i = 0; i < 50 && cc_->rtt_us.get() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(cc_->rtt_us.get(), 0u);
  EXPECT_LT(cc_->rtt_us.get(), 10'000'000u);
}

TEST_F(ForwardingRtcp, TransportCcFeedbackGoesToTheProducersSender) {
  Endpoint sender, receiver;
  AddProducer producer = video_producer();
  producer.twcc_ext_id = 3;
  setup(receiver, producer, video_consumer());
  for (uint16_t seq = 1; seq <= 10; ++seq) {
    if (seq == 6) continue;  // wide seq 106 never arrives
    const uint16_t wide = static_cast<uint16_t>(100 + seq);
    send(sender, seq, {{3, {static_cast<uint8_t>(wide >> 8), static_cast<uint8_t>(wide)}}});
  }
  const auto d = receive_until(
      sender, 3000, has_rtcp(wire::kRtcpTypeTransportFeedback, wire::kRtpfbFormatTransportCc));
  ASSERT_FALSE(d.empty()) << "no transport-cc feedback within 3 s";
  const auto fb_bytes =
      find_rtcp(d, wire::kRtcpTypeTransportFeedback, wire::kRtpfbFormatTransportCc);
  wire::TransportCcFeedback fb;
  wire::TransportCcPacketStatus statuses[64];
  size_t count = 0;
  ASSERT_TRUE(wire::parse_rtcp_transport_cc(fb_bytes.data(), fb_bytes.size(), fb, statuses, count));
  EXPECT_EQ(fb.media_ssrc, 1111u);
  ASSERT_GE(count, 1u);
  EXPECT_EQ(statuses[0].sequence, 101);
  bool saw_lost = false;
  for (size_t i = 0; i < count; ++i) {
    if (statuses[i].sequence == 106) saw_lost = !statuses[i].received;
  }
  EXPECT_TRUE(count < 6 || saw_lost);
  EXPECT_GE(transport_counters(0).transport_cc_feedbacks_sent.get(), 1u);
}

TEST_F(ForwardingRtcp, ConsumersGetWeirsOwnTransportWideNumbersAndFeedbackMovesTheEstimate) {
  Endpoint sender, receiver;
  AddProducer producer = video_producer();
  producer.ext_map[3] = 5;  // producer twcc id 3 -> router 5
  AddConsumer consumer = video_consumer();
  consumer.ext_map[5] = 4;  // router 5 -> consumer 4
  consumer.twcc_ext_id = 4;
  setup(receiver, producer, consumer);
  std::vector<uint16_t> wide;
  for (uint16_t seq = 1; seq <= 20; ++seq) {
    send(sender, seq, {{3, {0x77, 0x77}}});  // the producer's own numbers must not leak
    const auto d = receive_until(receiver, 2000, is_rtp);
    ASSERT_FALSE(d.empty());
    wire::RtpPacketView v;
    ASSERT_TRUE(wire::RtpPacketView::parse(d.data(), d.size(), v));
    const uint8_t* value = nullptr;
    size_t len = 0;
    ASSERT_TRUE(v.find_extension(4, value, len));
    ASSERT_EQ(len, 2u);
    wide.push_back(wire::load_be16(value));
  }
  for (size_t i = 1; i < wide.size(); ++i)
    EXPECT_EQ(wide[i], static_cast<uint16_t>(wide[i - 1] + 1));
  const uint64_t before = transport_counters(1).available_bitrate_bps.get();
  EXPECT_GT(before, 0u);
  // The endpoint reports all of them received, 1 ms apart.
  wire::TransportCcFeedback fb;
  fb.sender_ssrc = 77;
  fb.media_ssrc = 5555;
  fb.base_sequence = wide.front();
  fb.reference_time = 1;
  std::vector<wire::TransportCcPacketStatus> statuses;
  for (uint16_t w : wide) statuses.push_back({w, true, 1000});
  std::vector<uint8_t> out(512);
  out.resize(wire::write_rtcp_transport_cc(out.data(), out.size(), fb, statuses));
  ASSERT_GT(out.size(), 0u);
  receiver.send_to(out_, out);
  for (int i = 0; i < 50 && transport_counters(1).available_bitrate_bps.get() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(transport_counters(1).available_bitrate_bps.get(), before);

  // A REMB caps it and is shown.
  const uint32_t ssrcs[] = {5555};
  out.assign(64, 0);
  out.resize(
      wire::write_rtcp_receiver_estimated_max_bitrate(out.data(), out.size(), 77, 150000, ssrcs));
  receiver.send_to(out_, out);
  for (int i = 0; i < 50 && transport_counters(1).remb_bps.get() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NEAR(static_cast<double>(transport_counters(1).remb_bps.get()), 150000.0, 64.0);
  EXPECT_LE(transport_counters(1).available_bitrate_bps.get(), 150000u);
}

TEST_F(ForwardingRtcp, ConsumerPliReachesTheProducerThrottled) {
  Endpoint sender, receiver;
  AddProducer producer = video_producer();
  producer.keyframe_request = KeyFrameRequest::pli;
  setup(receiver, producer, video_consumer());
  send(sender, 1);  // comedia: weir learns where the producer is
  ASSERT_FALSE(receive_until(receiver, 2000, is_rtp).empty());
  std::vector<uint8_t> pli(12);
  wire::write_rtcp_picture_loss_indication(pli.data(), pli.size(), 77, 5555);
  for (int i = 0; i < 5; ++i) receiver.send_to(out_, pli);
  const auto d =
      receive_until(sender, 2000, has_rtcp(wire::kRtcpTypePayloadFeedback, wire::kPsfbFormatPli));
  ASSERT_FALSE(d.empty());
  const auto bytes = find_rtcp(d, wire::kRtcpTypePayloadFeedback, wire::kPsfbFormatPli);
  wire::RtcpPictureLossIndicationView view;
  ASSERT_TRUE(wire::RtcpPictureLossIndicationView::parse(bytes.data(), bytes.size(), view));
  EXPECT_EQ(view.media_ssrc(), 1111u);
  for (int i = 0; i < 50 && cc_->keyframe_requests.get() < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(cc_->keyframe_requests.get(), 5u);
  EXPECT_EQ(pc_->keyframe_requests.get(), 1u);  // five asks within 500 ms: one PLI
  EXPECT_EQ(pc_->keyframe_requests_throttled.get(), 4u);
}

}  // namespace
}  // namespace weir::dp::testing

namespace weir::dp::testing {
namespace {

TEST_F(ForwardingRtcp, ProducerWithRembOnlyIsToldWhatToSend) {
  Endpoint sender, receiver;
  AddProducer producer = video_producer();
  producer.remb = true;
  setup(receiver, producer, video_consumer());
  for (uint16_t seq = 1; seq <= 20; ++seq) send(sender, seq);
  const auto d = receive_until(
      sender, 4000, has_rtcp(wire::kRtcpTypePayloadFeedback, wire::kPsfbFormatApplicationLayer));
  ASSERT_FALSE(d.empty()) << "no REMB within 4 s";
  const auto bytes =
      find_rtcp(d, wire::kRtcpTypePayloadFeedback, wire::kPsfbFormatApplicationLayer);
  wire::RtcpReceiverEstimatedMaxBitrateView remb;
  ASSERT_TRUE(wire::RtcpReceiverEstimatedMaxBitrateView::parse(bytes.data(), bytes.size(), remb));
  ASSERT_EQ(remb.ssrc_count(), 1);
  EXPECT_EQ(remb.ssrc(0), 1111u);
  EXPECT_GE(remb.bitrate_bps(), 50'000u);
  EXPECT_EQ(transport_counters(0).advertised_bitrate_bps.get() / 64, remb.bitrate_bps() / 64);
}

TEST(ReceiveSideBandwidthEstimator, GrowsWithCleanTrafficAndCutsOnLoss) {
  ReceiveSideBandwidthEstimator e(1'000'000, 3'000'000);
  const uint64_t s = 1'000'000'000;
  EXPECT_EQ(e.update(1 * s, 0), 1'000'000u);  // starts the measurement
  e.on_packet(250'000);                       // 2 Mbit/s over the next second
  EXPECT_EQ(e.update(2 * s, 0), 1'080'000u);
  EXPECT_EQ(e.incoming_bps(), 2'000'000u);
  e.on_packet(250'000);
  e.on_packet(250'000);
  EXPECT_EQ(e.update(3 * s, 64), 945'000u);  // 25 % loss: x (1 - 0.125)
  e.on_packet(250'000);
  EXPECT_EQ(e.update(4 * s, 13), 945'000u);  // 5 %: holds
  // Little traffic: growth stops at 1.5 x what arrived + 100 kbit/s.
  ReceiveSideBandwidthEstimator quiet(100'000, 3'000'000);
  quiet.update(1 * s, 0);
  quiet.on_packet(1'250);  // 10 kbit/s
  EXPECT_EQ(quiet.update(2 * s, 0), 108'000u);
  quiet.on_packet(1'250);
  EXPECT_EQ(quiet.update(3 * s, 0), 115'000u);  // capped at 1.5 x 10k + 100k
  // Never above the maximum.
  ReceiveSideBandwidthEstimator high(2'900'000, 3'000'000);
  high.update(1 * s, 0);
  high.on_packet(1'000'000);
  EXPECT_EQ(high.update(2 * s, 0), 3'000'000u);
}

}  // namespace
}  // namespace weir::dp::testing
