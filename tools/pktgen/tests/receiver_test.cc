// The receiver against real UDP packets on loopback: SRTP made with the consumer's key is
// counted, a wrong key is an auth failure, a missing packet is a gap, and only packets
// numbered inside the window count as forwarded.
#include "receiver.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "media_payload.h"
#include "srtp_keys.h"

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

}  // namespace
}  // namespace weir::pktgen
