// pktgen's DPDK mode on a loopback net_ring port (EAL without hugepages or PCI; what the
// port sends comes back on its RX queue): the sender thread's SRTP streams, posted to the
// receiving thread and sent from queue 0, resolve pktgen's own address through the
// network stack's ARP and arrive at the receiver's ports, where every packet must verify
// in order; a stream to the sender's own port is counted apart; the port's counters add
// up. Its own executable: EAL is set up once per process and DpdkMedia tears it down.
#include "dpdk_media.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "receiver.h"
#include "sender.h"
#include "srtp_keys.h"

namespace weir::pktgen {
namespace {

constexpr char kIp[] = "10.99.0.2";
constexpr uint16_t kSenderPort = 10000;

VideoStreamConfig stream(uint32_t ssrc) {
  VideoStreamConfig c;
  c.ssrc = ssrc;
  c.payload_type = 101;
  c.rate_pps = 200;
  c.payload_size = 400;
  c.first_sequence = static_cast<uint16_t>(ssrc * 100);
  return c;
}

TEST(DpdkMedia, SenderToReceiverThroughTheLoopbackPort) {
  std::string error;
  ASSERT_TRUE(dp::srtp_library_init(&error)) << error;
  DpdkMediaConfig mc;
  mc.eal_args =
      "--no-huge --no-pci --no-shconf -m 256 --no-telemetry --log-level=lib.eal:error "
      "--file-prefix pktgen-dpdk-media-test --vdev=net_ring0";
  mc.local_ip = kIp;
  mc.mbufs_per_queue = 4095;
  mc.sender_port = kSenderPort;
  auto media = DpdkMedia::open(mc, &error);
  ASSERT_TRUE(media) << error;
  EXPECT_TRUE(media->port().link_up());

  auto receiver = Receiver::create(*media, 2, kSenderPort + 1, &error);
  ASSERT_TRUE(receiver) << error;
  ASSERT_EQ(receiver->ports(), (std::vector<uint16_t>{kSenderPort + 1, kSenderPort + 2}));

  const dp::SrtpSuite suite = dp::SrtpSuite::aes_cm_128_hmac_sha1_80;
  const std::vector<uint8_t> key = random_bytes(dp::srtp_master_length(suite));
  std::vector<ConsumerInfo> consumers(2);
  for (uint32_t i = 0; i < 2; ++i) {
    consumers[i].consumer_id = "c" + std::to_string(i);
    consumers[i].ssrc = 1000 + i;
    consumers[i].weir_key = key;
  }
  ASSERT_TRUE(receiver->attach(consumers, suite, 1, &error)) << error;
  receiver->set_window_begin(0);

  SenderConfig sc;
  sc.dpdk = media.get();
  sc.suite = suite;
  for (uint32_t i = 0; i < 2; ++i) {
    sc.streams.push_back(
        {*dp::SocketAddress::parse(kIp, static_cast<uint16_t>(kSenderPort + 1 + i)), key,
         stream(1000 + i)});
  }
  // To the sender's own port: served by the receiving thread, counted apart.
  sc.streams.push_back({*dp::SocketAddress::parse(kIp, kSenderPort), key, stream(3000)});
  auto sender = Sender::create(sc, &error);
  ASSERT_TRUE(sender) << error;
  ASSERT_TRUE(sender->start(&error)) << error;
  {
    auto pool = media->make_sender_pool();
    EXPECT_FALSE(media->make_sender_engine(*pool, &error)) << "the hand-over ring has one producer";
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  while (std::chrono::steady_clock::now() < until) receiver->poll(1000);
  sender->stop();
  const uint64_t sent0 = sender->next_counter(0), sent1 = sender->next_counter(1);
  for (int i = 0; i < 50; ++i) receiver->poll(1000);  // what is still on its way

  const ReceiverStats& st = receiver->stats();
  EXPECT_GT(sent0, 20u);
  // The first datagrams waited for ARP (parked, not lost): every one arrives.
  EXPECT_EQ(receiver->consumer_received(0), sent0);
  EXPECT_EQ(receiver->consumer_received(1), sent1);
  EXPECT_EQ(st.verified, sent0 + sent1);
  EXPECT_EQ(st.auth_failed, 0u);
  EXPECT_EQ(st.foreign, 0u);
  EXPECT_EQ(receiver->gaps(), 0u);
  EXPECT_EQ(receiver->window_forwarded(), sent0 + sent1);
  EXPECT_EQ(st.to_sender, sender->next_counter(2));
  EXPECT_GT(receiver->window_latency().percentile(0.5), 0u);
  EXPECT_EQ(sender->engine_stats().tx_packets, sent0 + sent1 + sender->next_counter(2));

  const DpdkMediaCounters c = media->counters();
  EXPECT_EQ(c.posted_dropped, 0u);
  EXPECT_EQ(c.tx_dropped, 0u);
  EXPECT_EQ(c.port.imissed + c.port.rx_nombuf, 0u);
  EXPECT_GE(c.arp_requests_sent, 1u);
  // Every frame sent came back: the datagrams, the ARP request and its answer.
  EXPECT_EQ(c.port.ipackets, c.port.opackets);
  EXPECT_GE(c.port.opackets, sent0 + sent1 + 2);
}

TEST(DpdkMedia, RejectsABadAddressBeforeEal) {
  DpdkMediaConfig mc;
  mc.eal_args = "--no-huge --no-pci --no-shconf -m 64 --vdev=net_ring1";
  mc.local_ip = "not-an-ip";
  std::string error;
  EXPECT_FALSE(DpdkMedia::open(mc, &error));
  EXPECT_NE(error.find("IPv4"), std::string::npos) << error;
}

}  // namespace
}  // namespace weir::pktgen
