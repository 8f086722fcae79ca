// The receiver against real UDP packets on loopback: SRTP made with the consumer's key is
// counted, a wrong key is an auth failure, a missing packet is a gap, and only packets
// numbered inside the window count as forwarded.
#include "receiver.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "base/clock.h"
#include "media_payload.h"
#include "srtp_keys.h"
#include "wire/byte_io.h"

namespace weir::pktgen {
namespace {

constexpr auto kSuite = dp::SrtpSuite::aes_cm_128_hmac_sha1_80;

class UdpSender {
 public:
  UdpSender() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {}
  ~UdpSender() { close(fd_); }
  void send_to(uint16_t port, const uint8_t* data, size_t len) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(sendto(fd_, data, len, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(len));
  }

 private:
  int fd_;
};

TEST(Receiver, CountsWindowGapsAndAuthFailures) {
  std::string error;
  ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
  auto rx = Receiver::create("127.0.0.1", 2, &error);
  ASSERT_TRUE(rx) << error;
  ASSERT_EQ(rx->ports().size(), 2u);

  std::vector<ConsumerInfo> consumers(2);
  consumers[0].ssrc = 111111;
  consumers[1].ssrc = 222222;
  for (auto& c : consumers) c.weir_key = random_bytes(dp::srtp_master_length(kSuite));
  ASSERT_TRUE(rx->attach(consumers, kSuite, 1, &error)) << error;

  // What weir would send each consumer: its own SSRC, protected with its transport's key.
  auto make_stream = [](uint32_t ssrc) {
    VideoStreamConfig c;
    c.ssrc = ssrc;
    c.payload_size = 200;
    c.first_sequence = 65533;  // crosses the 16-bit wrap
    return VideoPacketizer(c);
  };
  const VideoPacketizer good = make_stream(consumers[0].ssrc);
  const VideoPacketizer other = make_stream(consumers[1].ssrc);
  auto good_srtp = dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::outbound,
                                           consumers[0].weir_key, &error);
  auto wrong_srtp = dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::outbound,
                                            random_bytes(dp::srtp_master_length(kSuite)), &error);
  ASSERT_TRUE(good_srtp && wrong_srtp) << error;

  rx->set_window_begin(2);
  rx->set_window_end(8);
  UdpSender tx;
  uint8_t buf[512];
  size_t sent = 0;
  for (uint64_t k = 0; k < 10; ++k) {
    if (k == 5) continue;  // lost on the way
    size_t len = good.write(k, 1, buf, sizeof buf);
    ASSERT_EQ(good_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
    tx.send_to(rx->ports()[0], buf, len);
    ++sent;
  }
  size_t len = other.write(0, 1, buf, sizeof buf);
  ASSERT_EQ(wrong_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
  tx.send_to(rx->ports()[1], buf, len);
  ++sent;

  for (int i = 0; i < 200 && rx->stats().packets < sent; ++i) rx->poll(10000);
  ASSERT_EQ(rx->stats().packets, sent);
  EXPECT_EQ(rx->stats().auth_failed, 1u);
  EXPECT_EQ(rx->stats().verified, 9u);
  EXPECT_EQ(rx->gaps(), 1u);
  EXPECT_EQ(rx->missing(), 1u);
  EXPECT_EQ(rx->window_forwarded(), 5u);  // counters 2, 3, 4, 6, 7
  EXPECT_EQ(rx->window_latency().count(), 5u);
  EXPECT_EQ(rx->consumers_seen(), 1u);
  EXPECT_FALSE(rx->all_reached(9));  // consumer 1 never got a packet through
}

// A meeting peer's socket: three consumers on one socket, told apart by SSRC, each in the
// window of its own stream; an SSRC of none of them is foreign.
TEST(Receiver, SharedSocketByStreamWindows) {
  std::string error;
  ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
  auto rx = Receiver::create("127.0.0.1", 2, &error);
  ASSERT_TRUE(rx) << error;
  const auto key = random_bytes(dp::srtp_master_length(kSuite));
  std::vector<ConsumerInfo> consumers(3);
  const uint32_t ssrcs[3] = {1001, 1002, 1003};
  for (uint32_t i = 0; i < 3; ++i) {
    consumers[i].ssrc = ssrcs[i];
    consumers[i].socket = 1;  // all on the second socket
    consumers[i].stream = i;
    consumers[i].weir_key = key;
  }
  ASSERT_TRUE(rx->attach(consumers, kSuite, 1, &error)) << error;
  // Stream 0 counts from 0, stream 1 from 5, stream 2 from 10 (windows differ per stream).
  for (uint32_t s = 0; s < 3; ++s) {
    rx->set_window_begin(s, 5 * s);
    rx->set_window_end(s, 5 * s + 3);
  }
  auto srtp = dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::outbound, key, &error);
  ASSERT_TRUE(srtp) << error;
  UdpSender tx;
  uint8_t buf[512];
  size_t sent = 0;
  for (uint32_t s = 0; s < 3; ++s) {
    VideoStreamConfig c;
    c.kind = s == 0 ? MediaKind::audio : MediaKind::video;
    c.ssrc = ssrcs[s];
    c.payload_size = s == 0 ? 160 : 300;
    const VideoPacketizer p(c);
    for (uint64_t k = 0; k < 15; ++k) {
      const size_t len = p.write(k, 1, buf, sizeof buf);
      size_t plen = len;
      ASSERT_EQ(srtp->protect_rtp(buf, plen, sizeof buf), dp::SrtpStatus::ok);
      tx.send_to(rx->ports()[1], buf, plen);
      ++sent;
    }
  }
  VideoStreamConfig stranger;
  stranger.ssrc = 4242;
  stranger.payload_size = 100;
  size_t len = VideoPacketizer(stranger).write(0, 1, buf, sizeof buf);
  ASSERT_EQ(srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
  tx.send_to(rx->ports()[1], buf, len);
  ++sent;

  for (int i = 0; i < 200 && rx->stats().packets < sent; ++i) rx->poll(10000);
  ASSERT_EQ(rx->stats().packets, sent);
  EXPECT_EQ(rx->stats().verified, 45u);
  EXPECT_EQ(rx->stats().foreign, 1u);
  EXPECT_EQ(rx->stats().auth_failed, 0u);
  EXPECT_EQ(rx->gaps(), 0u);
  EXPECT_EQ(rx->consumers_seen(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rx->consumer_received(i), 15u) << i;
    EXPECT_EQ(rx->consumer_window_forwarded(i), 3u) << i;
  }
  EXPECT_EQ(rx->window_forwarded(), 9u);
  EXPECT_TRUE(rx->all_reached_ends({15, 15, 15}));
  EXPECT_FALSE(rx->all_reached_ends({15, 16, 15}));
  EXPECT_TRUE(rx->all_reached_ends({0, 0, 15}));
}

TEST(Receiver, RefusesASocketOutOfRangeAndTwiceTheSameSsrc) {
  std::string error;
  auto rx = Receiver::create("127.0.0.1", 1, &error);
  ASSERT_TRUE(rx) << error;
  std::vector<ConsumerInfo> consumers(2);
  consumers[0].ssrc = 7;
  consumers[0].socket = 0;
  consumers[1].ssrc = 7;
  consumers[1].socket = 0;
  EXPECT_FALSE(rx->attach(consumers, std::nullopt, 1, &error));
  consumers[1].ssrc = 8;
  consumers[1].socket = 1;
  EXPECT_FALSE(rx->attach(consumers, std::nullopt, 1, &error));
  consumers[1].socket = 0;
  EXPECT_TRUE(rx->attach(consumers, std::nullopt, 1, &error)) << error;
}

struct RecordingSink final : Receiver::ControlSink {
  std::vector<std::pair<uint32_t, DatagramKind>> got;
  void on_control_datagram(uint32_t consumer, DatagramKind kind, const uint8_t*, size_t) override {
    got.emplace_back(consumer, kind);
  }
};

// WebRTC mode: STUN and DTLS go to the sink, SRTP waits for the DTLS keys, an unmeasured
// consumer counts in no window figure, and an ignoring one gets nothing through.
TEST(Receiver, WebRtcDemultiplexesAndWaitsForKeys) {
  std::string error;
  ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
  auto rx = Receiver::create("127.0.0.1", 2, &error);
  ASSERT_TRUE(rx) << error;
  std::vector<ConsumerInfo> consumers(2);
  consumers[0].ssrc = 111111;
  consumers[1].ssrc = 222222;
  RecordingSink sink;
  const std::vector<dp::SocketAddress> remotes(2, *dp::SocketAddress::parse("127.0.0.1", 9));
  ASSERT_TRUE(rx->attach_webrtc(consumers, remotes, 1, sink, &error)) << error;
  rx->set_measured(1, false);

  dp::DtlsSrtpKeys keys{kSuite, random_bytes(dp::srtp_master_length(kSuite)),
                        random_bytes(dp::srtp_master_length(kSuite))};
  // weir protects with what is this side's remote key.
  auto weir_srtp =
      dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::outbound, keys.remote, &error);
  ASSERT_TRUE(weir_srtp) << error;
  VideoStreamConfig vc;
  vc.payload_size = 200;
  vc.ssrc = consumers[0].ssrc;
  const VideoPacketizer to0(vc);
  vc.ssrc = consumers[1].ssrc;
  const VideoPacketizer to1(vc);
  rx->set_window_begin(0);

  UdpSender tx;
  const uint8_t stun[20] = {0x01, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  const uint8_t dtls[13] = {22, 0xfe, 0xfd};
  tx.send_to(rx->ports()[0], stun, sizeof stun);
  tx.send_to(rx->ports()[1], dtls, sizeof dtls);
  uint8_t buf[512];
  size_t len = to0.write(0, 1, buf, sizeof buf);
  ASSERT_EQ(weir_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
  tx.send_to(rx->ports()[0], buf, len);  // before the keys: dropped
  for (int i = 0; i < 200 && rx->stats().packets < 3; ++i) rx->poll(10000);
  ASSERT_EQ(rx->stats().packets, 3u);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0], std::make_pair(0u, DatagramKind::stun));
  EXPECT_EQ(sink.got[1], std::make_pair(1u, DatagramKind::dtls));
  EXPECT_EQ(rx->stats().before_keys, 1u);

  ASSERT_TRUE(rx->set_keys(0, keys, &error)) << error;
  ASSERT_TRUE(rx->set_keys(1, keys, &error)) << error;
  for (uint64_t k = 1; k <= 3; ++k) {
    len = to0.write(k, 1, buf, sizeof buf);
    ASSERT_EQ(weir_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
    tx.send_to(rx->ports()[0], buf, len);
    len = to1.write(k, 1, buf, sizeof buf);
    ASSERT_EQ(weir_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
    tx.send_to(rx->ports()[1], buf, len);
  }
  for (int i = 0; i < 200 && rx->stats().packets < 9; ++i) rx->poll(10000);
  ASSERT_EQ(rx->stats().packets, 9u);
  EXPECT_EQ(rx->stats().verified, 6u);
  EXPECT_EQ(rx->consumer_received(0), 3u);
  EXPECT_EQ(rx->consumer_received(1), 3u);
  EXPECT_EQ(rx->window_forwarded(), 3u);  // consumer 1 is not measured
  EXPECT_EQ(rx->consumers_seen(), 1u);
  EXPECT_TRUE(rx->all_reached(3));

  rx->set_ignoring(0, true);
  len = to0.write(4, 1, buf, sizeof buf);
  ASSERT_EQ(weir_srtp->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
  tx.send_to(rx->ports()[0], buf, len);
  tx.send_to(rx->ports()[0], stun, sizeof stun);
  for (int i = 0; i < 200 && rx->stats().packets < 11; ++i) rx->poll(10000);
  EXPECT_EQ(rx->stats().ignored, 2u);
  EXPECT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(rx->consumer_received(0), 3u);
}

// The receiver report a keyed consumer sends: RR + SDES under SRTCP, decryptable by weir.
TEST(Receiver, WebRtcSendsProtectedReceiverReports) {
  std::string error;
  ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
  auto rx = Receiver::create("127.0.0.1", 1, &error);
  ASSERT_TRUE(rx) << error;
  const int weir_fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(weir_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t alen = sizeof addr;
  getsockname(weir_fd, reinterpret_cast<sockaddr*>(&addr), &alen);
  timeval tv{2, 0};
  setsockopt(weir_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  std::vector<ConsumerInfo> consumers(1);
  consumers[0].ssrc = 333333;
  RecordingSink sink;
  const std::vector<dp::SocketAddress> remotes{
      *dp::SocketAddress::parse("127.0.0.1", ntohs(addr.sin_port))};
  ASSERT_TRUE(rx->attach_webrtc(consumers, remotes, 1, sink, &error)) << error;
  dp::DtlsSrtpKeys keys{kSuite, random_bytes(dp::srtp_master_length(kSuite)),
                        random_bytes(dp::srtp_master_length(kSuite))};
  ASSERT_TRUE(rx->set_keys(0, keys, &error)) << error;
  auto weir_out =
      dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::outbound, keys.remote, &error);
  auto weir_in =
      dp::SrtpSession::create(kSuite, dp::SrtpSession::Direction::inbound, keys.local, &error);
  ASSERT_TRUE(weir_out && weir_in) << error;

  VideoStreamConfig vc;
  vc.payload_size = 200;
  vc.ssrc = consumers[0].ssrc;
  const VideoPacketizer to0(vc);
  UdpSender tx;
  uint8_t buf[512];
  size_t len = to0.write(0, 1, buf, sizeof buf);
  ASSERT_EQ(weir_out->protect_rtp(buf, len, sizeof buf), dp::SrtpStatus::ok);
  tx.send_to(rx->ports()[0], buf, len);
  for (int i = 0; i < 200 && rx->stats().verified < 1; ++i) rx->poll(10000);
  ASSERT_EQ(rx->stats().verified, 1u);

  rx->set_report_interval(1000000);
  rx->send_due_reports(now_ns());
  EXPECT_EQ(rx->stats().reports_sent, 1u);
  rx->poll(0);  // reaps the send
  uint8_t got[512];
  const ssize_t n = recv(weir_fd, got, sizeof got, 0);
  close(weir_fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(classify_datagram(got, static_cast<size_t>(n)), DatagramKind::srtcp);
  size_t plain = static_cast<size_t>(n);
  ASSERT_EQ(weir_in->unprotect_rtcp(got, plain), dp::SrtpStatus::ok);
  EXPECT_EQ(got[1], 201);                        // RR
  EXPECT_EQ(wire::load_be32(got + 8), 333333u);  // its one block is about the stream
  const size_t rr_len = 4 * (wire::load_be16(got + 2) + 1u);
  ASSERT_LT(rr_len, plain);
  EXPECT_EQ(got[rr_len + 1], 202);  // then SDES
}

}  // namespace
}  // namespace weir::pktgen
