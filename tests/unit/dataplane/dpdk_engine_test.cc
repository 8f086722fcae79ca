// The DPDK engine on a net_ring port fed in-process: EAL without hugepages or PCI, one
// ring the test fills with frames (the port's RX) and one it drains (the port's TX). What
// the engine makes of ARP, ICMP echo, UDP and bad frames, and what it sends.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/dpdk_eal.h"
#include "dataplane/dpdk_port.h"
#include "wire/arp_packet.h"
#include "wire/byte_io.h"
#include "wire/ethernet_frame.h"
#include "wire/icmp_message.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/udp_datagram.h"

namespace weir::dp {
namespace {

constexpr uint32_t kOurIp = 0x0a4d0002;   // 10.77.0.2
constexpr uint32_t kPeerIp = 0x0a4d0003;  // 10.77.0.3
constexpr uint32_t kGateway = 0x0a4d0001;
const wire::MacAddress kPeerMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}};
const wire::MacAddress kGatewayMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};

// One EAL per process: every test shares it, each makes its own ring port.
class DpdkEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    ASSERT_TRUE(dpdk_eal_init(split_eal_arguments("--no-huge --no-pci --no-shconf -m 256 "
                                                  "--no-telemetry --log-level=lib.eal:error"),
                              &error))
        << error;
    // Like any pool a port receives into, with room for the PacketBuffer.
    test_pool_ = rte_pktmbuf_pool_create("test_frames", 4095, 0,
                                         RTE_ALIGN(sizeof(PacketBuffer), RTE_MBUF_PRIV_ALIGN),
                                         RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(test_pool_, nullptr);
  }

  void SetUp() override {
    static int n = 0;
    const std::string id = std::to_string(n++);
    rx_ = rte_ring_create(("rx" + id).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create(("tx" + id).c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(rx_, nullptr);
    ASSERT_NE(tx_, nullptr);
    const int port =
        rte_eth_from_rings(("net_ring_t" + id).c_str(), &rx_, 1, &tx_, 1, SOCKET_ID_ANY);
    ASSERT_GE(port, 0);
    DpdkPortConfig pc;
    pc.port_id = static_cast<uint16_t>(port);
    pc.mbufs_per_queue = 2047;
    pc.mempool_cache = 0;
    pc.stack.ip = kOurIp;
    pc.stack.prefix_length = 24;
    pc.stack.gateway = kGateway;
    pc.idle_sleep_us = 0;
    std::string error;
    port_ = DpdkPort::open(pc, &error);
    ASSERT_TRUE(port_) << error;
    our_mac_ = port_->stack_config().mac;
    pool_ = std::make_unique<PacketPool>(port_->buffer_source(0), kDpdkHeadroom);
    engine_ = make_dpdk_engine(*port_, 0, *pool_, &error);
    ASSERT_TRUE(engine_) << error;
  }

  void TearDown() override {
    drain();
    engine_.reset();
    pool_.reset();
    port_.reset();
    rte_ring_free(rx_);
    rte_ring_free(tx_);
  }

  // A frame into the port's RX ring.
  void inject(const std::vector<uint8_t>& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(test_pool_);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())), frame.data(),
                frame.size());
    ASSERT_EQ(rte_ring_enqueue(rx_, m), 0);
  }

  // Everything the engine sent since the last call.
  std::vector<std::vector<uint8_t>> drain() {
    std::vector<std::vector<uint8_t>> out;
    void* obj = nullptr;
    while (rte_ring_dequeue(tx_, &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(p, p + m->pkt_len);
      rte_pktmbuf_free(m);
    }
    return out;
  }

  size_t poll(RxPacket* out, size_t max = 32) { return engine_->rx_burst(out, max, 0); }
  void release(RxPacket* rx, size_t n) {
    for (size_t i = 0; i < n; ++i) pool_->release(rx[i].buf);
    pool_->flush();
  }

  std::vector<uint8_t> udp_frame(uint16_t src_port, uint16_t dst_port, const std::string& payload,
                                 uint32_t dst_ip = kOurIp) const {
    std::vector<uint8_t> f(14 + 20 + 8 + payload.size());
    wire::write_ethernet_header(f.data(), our_mac_, kPeerMac, wire::kEtherTypeIpv4);
    wire::write_ipv4_header(f.data() + 14, kPeerIp, dst_ip, wire::kIpProtoUdp,
                            static_cast<uint16_t>(8 + payload.size()), 7, 64, true);
    wire::write_udp_header(f.data() + 34, src_port, dst_port,
                           static_cast<uint16_t>(payload.size()));
    std::memcpy(f.data() + 42, payload.data(), payload.size());
    wire::store_be16(f.data() + 40,
                     wire::udp_ipv4_checksum(kPeerIp, dst_ip, f.data() + 34, 8 + payload.size()));
    return f;
  }

  std::vector<uint8_t> arp_frame(uint16_t op, const wire::MacAddress& sender_mac,
                                 uint32_t sender_ip, uint32_t target_ip) const {
    std::vector<uint8_t> f(60, 0);
    wire::write_ethernet_header(f.data(),
                                op == wire::kArpRequest ? wire::MacAddress::broadcast() : our_mac_,
                                sender_mac, wire::kEtherTypeArp);
    wire::ArpPacket a{};
    a.op = op;
    a.sender_mac = sender_mac;
    a.sender_ip = sender_ip;
    a.target_mac = op == wire::kArpReply ? our_mac_ : wire::MacAddress{};
    a.target_ip = target_ip;
    wire::write_arp(f.data() + 14, a);
    return f;
  }

  static rte_mempool* test_pool_;
  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  std::unique_ptr<DpdkPort> port_;
  std::unique_ptr<PacketPool> pool_;
  std::unique_ptr<UdpEngine> engine_;
  wire::MacAddress our_mac_;
};
rte_mempool* DpdkEngineTest::test_pool_ = nullptr;

UdpBinding binding(uint16_t port) {
  return UdpBinding{-1, *SocketAddress::parse("10.77.0.2", port)};
}

TEST_F(DpdkEngineTest, AnswersArpForOurAddressOnly) {
  inject(arp_frame(wire::kArpRequest, kPeerMac, kPeerIp, kOurIp));
  inject(arp_frame(wire::kArpRequest, kPeerMac, kPeerIp, 0x0a4d0009));  // someone else
  RxPacket rx[8];
  EXPECT_EQ(poll(rx), 0u);
  auto sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  const auto eth = wire::parse_ethernet(sent[0].data(), sent[0].size());
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kPeerMac);
  EXPECT_EQ(eth->src, our_mac_);
  const auto arp = wire::parse_arp(sent[0].data() + 14, sent[0].size() - 14);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, wire::kArpReply);
  EXPECT_EQ(arp->sender_ip, kOurIp);
  EXPECT_EQ(arp->sender_mac, our_mac_);
  EXPECT_EQ(arp->target_ip, kPeerIp);
  EXPECT_EQ(arp->target_mac, kPeerMac);
  const NetStackCounters* c = engine_->net_stack_counters();
  EXPECT_EQ(c->arp_requests_answered.get(), 1u);
  EXPECT_EQ(c->drop_not_for_us.get(), 1u);
}

TEST_F(DpdkEngineTest, AnswersIcmpEcho) {
  std::vector<uint8_t> f(14 + 20 + 8 + 32);
  wire::write_ethernet_header(f.data(), our_mac_, kPeerMac, wire::kEtherTypeIpv4);
  wire::write_ipv4_header(f.data() + 14, kPeerIp, kOurIp, wire::kIpProtoIcmp, 40, 1, 64, true);
  uint8_t data[32];
  for (int i = 0; i < 32; ++i) data[i] = static_cast<uint8_t>(i);
  wire::write_icmp_echo(f.data() + 34, wire::kIcmpEchoRequest, 0x1234, 9, data, sizeof data);
  inject(f);
  RxPacket rx[8];
  EXPECT_EQ(poll(rx), 0u);
  auto sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  const auto& r = sent[0];
  wire::Ipv4View ip;
  ASSERT_EQ(wire::parse_ipv4(r.data() + 14, r.size() - 14, true, &ip), wire::Ipv4Error::none);
  EXPECT_EQ(ip.src, kOurIp);
  EXPECT_EQ(ip.dst, kPeerIp);
  const auto echo = wire::parse_icmp_echo(r.data() + 34, r.size() - 34, true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->type, wire::kIcmpEchoReply);
  EXPECT_EQ(echo->identifier, 0x1234);
  EXPECT_EQ(echo->sequence, 9);
  EXPECT_EQ(std::memcmp(r.data() + 42, data, sizeof data), 0);
}

TEST_F(DpdkEngineTest, DeliversUdpToItsSocketWithoutCopy) {
  std::string error;
  const int s = engine_->add_socket(binding(40002), &error);
  ASSERT_EQ(s, 0) << error;
  inject(udp_frame(5000, 40002, "hello media"));
  inject(udp_frame(5000, 40003, "nobody listens"));
  RxPacket rx[8];
  ASSERT_EQ(poll(rx), 1u);
  EXPECT_EQ(rx[0].socket, 0u);
  EXPECT_EQ(rx[0].from.to_string(), "10.77.0.3:5000");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(rx[0].buf->data()), rx[0].buf->len),
            "hello media");
  // The datagram is the received mbuf itself, 42 bytes of headers in.
  auto* m = static_cast<rte_mbuf*>(rx[0].buf->mbuf);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(rx[0].buf->data(), rte_pktmbuf_mtod(m, uint8_t*) + 42);
  EXPECT_EQ(engine_->stats().rx_unbound, 1u);
  release(rx, 1);
}

TEST_F(DpdkEngineTest, CountsAndDropsBadFrames) {
  std::string error;
  ASSERT_EQ(engine_->add_socket(binding(40002), &error), 0);
  const NetStackCounters* c = engine_->net_stack_counters();
  std::vector<uint8_t> good = udp_frame(5000, 40002, "payload-payload");

  inject(std::vector<uint8_t>(good.begin(), good.begin() + 10));  // shorter than Ethernet
  auto bad_ihl = good;
  bad_ihl[14] = 0x44;  // IHL 4
  inject(bad_ihl);
  auto bad_len = good;
  wire::store_be16(bad_len.data() + 16, 2000);  // total length beyond the frame
  wire::store_be16(bad_len.data() + 24, 0);
  wire::store_be16(bad_len.data() + 24, wire::ipv4_header_checksum(bad_len.data() + 14, 20));
  inject(bad_len);
  auto fragment = good;
  fragment[20] = 0x20;  // more fragments
  wire::store_be16(fragment.data() + 24, 0);
  wire::store_be16(fragment.data() + 24, wire::ipv4_header_checksum(fragment.data() + 14, 20));
  inject(fragment);
  auto bad_ip_sum = good;
  bad_ip_sum[24] ^= 0xff;
  inject(bad_ip_sum);
  auto bad_udp_len = good;
  wire::store_be16(bad_udp_len.data() + 38, 4000);
  inject(bad_udp_len);
  auto bad_udp_sum = good;
  bad_udp_sum[50] ^= 0x01;  // a payload bit flipped on the way
  inject(bad_udp_sum);
  auto other_proto = good;
  other_proto[23] = 6;  // TCP
  wire::store_be16(other_proto.data() + 24, 0);
  wire::store_be16(other_proto.data() + 24,
                   wire::ipv4_header_checksum(other_proto.data() + 14, 20));
  inject(other_proto);
  inject(good);

  RxPacket rx[16];
  ASSERT_EQ(poll(rx), 1u);
  release(rx, 1);
  EXPECT_EQ(c->drop_short_frame.get(), 1u);
  EXPECT_EQ(c->drop_ipv4_header.get(), 2u);  // IHL and total length
  EXPECT_EQ(c->drop_fragment.get(), 1u);
  EXPECT_EQ(c->drop_ipv4_checksum.get(), 1u);
  EXPECT_EQ(c->drop_udp_length.get(), 1u);
  EXPECT_EQ(c->drop_udp_checksum.get(), 1u);
  EXPECT_EQ(c->drop_unknown_protocol.get(), 1u);
  EXPECT_EQ(c->rx_udp.get(), 1u);
  EXPECT_TRUE(drain().empty());
}

TEST_F(DpdkEngineTest, SendsUdpAfterResolvingTheNextHop) {
  std::string error;
  ASSERT_EQ(engine_->add_socket(binding(40002), &error), 0);
  const NetStackCounters* c = engine_->net_stack_counters();
  auto send = [&](const char* text, const char* to) {
    PacketBuffer* b = pool_->alloc();
    ASSERT_NE(b, nullptr);
    std::memcpy(b->data(), text, std::strlen(text));
    b->len = static_cast<uint16_t>(std::strlen(text));
    TxPacket t{b, 0, *SocketAddress::parse(to, 6000)};
    engine_->tx_burst(&t, 1);
  };
  // Unknown neighbour: the datagram waits, an ARP request goes out.
  send("first", "10.77.0.3");
  auto sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  auto arp = wire::parse_arp(sent[0].data() + 14, sent[0].size() - 14);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, wire::kArpRequest);
  EXPECT_EQ(arp->target_ip, kPeerIp);
  EXPECT_EQ(c->tx_parked.get(), 1u);

  // The reply releases it, with headers the kernel would accept.
  inject(arp_frame(wire::kArpReply, kPeerMac, kPeerIp, kOurIp));
  RxPacket rx[4];
  EXPECT_EQ(poll(rx), 0u);
  sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  const auto& f = sent[0];
  const auto eth = wire::parse_ethernet(f.data(), f.size());
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kPeerMac);
  EXPECT_EQ(eth->src, our_mac_);
  wire::Ipv4View ip;
  ASSERT_EQ(wire::parse_ipv4(f.data() + 14, f.size() - 14, true, &ip), wire::Ipv4Error::none);
  EXPECT_EQ(ip.src, kOurIp);
  EXPECT_EQ(ip.dst, kPeerIp);
  wire::UdpView udp;
  ASSERT_EQ(wire::parse_udp_ipv4(f.data() + 34, ip.total_length - 20, ip.src, ip.dst, true, &udp),
            wire::UdpError::none);
  EXPECT_NE(wire::load_be16(f.data() + 40), 0) << "a software checksum, not none";
  EXPECT_EQ(udp.src_port, 40002);
  EXPECT_EQ(udp.dst_port, 6000);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data() + 42), udp.payload_len), "first");

  // Known now: the next one leaves at once. Off-link goes to the gateway's MAC.
  send("second", "10.77.0.3");
  EXPECT_EQ(drain().size(), 1u);
  send("far away", "192.0.2.10");
  sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  arp = wire::parse_arp(sent[0].data() + 14, sent[0].size() - 14);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->target_ip, kGateway);
  inject(arp_frame(wire::kArpReply, kGatewayMac, kGateway, kOurIp));
  EXPECT_EQ(poll(rx), 0u);
  sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(wire::parse_ethernet(sent[0].data(), sent[0].size())->dst, kGatewayMac);
  EXPECT_EQ(wire::load_be32(sent[0].data() + 14 + 16), 0xc000020au);
}

TEST_F(DpdkEngineTest, RepliesToAPeerItHeardFromWithoutArp) {
  std::string error;
  ASSERT_EQ(engine_->add_socket(binding(40002), &error), 0);
  inject(udp_frame(5000, 40002, "ping"));
  RxPacket rx[4];
  ASSERT_EQ(poll(rx), 1u);
  // Forwarding answers from the buffer it got: a shared buffer (refcnt 2) is copied.
  PacketPool::ref(rx[0].buf);
  TxPacket t{rx[0].buf, 0, rx[0].from};
  engine_->tx_burst(&t, 1);
  release(rx, 1);
  auto sent = drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(wire::parse_ethernet(sent[0].data(), sent[0].size())->dst, kPeerMac);
  EXPECT_EQ(engine_->stats().tx_copies, 1u);
}

TEST_F(DpdkEngineTest, ReleasesEveryMbuf) {
  std::string error;
  ASSERT_EQ(engine_->add_socket(binding(40002), &error), 0);
  PacketBufferSource& source = port_->buffer_source(0);
  RxPacket rx[32];
  poll(rx);  // settle the pool's batches
  pool_->flush();
  const uint32_t before = pool_->available();
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 16; ++i) inject(udp_frame(5000, 40002, "x"));
    const size_t n = poll(rx);
    ASSERT_EQ(n, 16u);
    for (size_t i = 0; i < n; ++i) {
      PacketBuffer* b = pool_->alloc();
      ASSERT_NE(b, nullptr);
      std::memcpy(b->data(), rx[i].buf->data(), rx[i].buf->len);
      b->len = rx[i].buf->len;
      TxPacket t{b, rx[i].socket, rx[i].from};
      engine_->tx_burst(&t, 1);
    }
    release(rx, n);
    drain();
  }
  pool_->flush();
  EXPECT_EQ(pool_->available(), before);
  (void)source;
}

// Forwarding gathers sends in bursts of this size (TxBatch): one PMD burst, which the
// stack's checksum and the PMD read while the burst just encrypted is still in cache.
TEST_F(DpdkEngineTest, PrefersBurstsOfOnePmdBurst) {
  EXPECT_EQ(engine_->preferred_tx_burst(), 64u);
}

}  // namespace
}  // namespace weir::dp

namespace weir::dp {
namespace {

// Two workers on one port whose frames all arrive on queue 0 (a port without steering):
// worker 0 hands worker 1's datagrams over through its ring, and copies ARP to it.
TEST_F(DpdkEngineTest, HandsFramesToTheWorkerThatOwnsThePort) {
  rte_ring* rx[2];
  rte_ring* tx[2];
  for (int q = 0; q < 2; ++q) {
    rx[q] = rte_ring_create(("mrx" + std::to_string(q)).c_str(), 1024, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx[q] = rte_ring_create(("mtx" + std::to_string(q)).c_str(), 1024, SOCKET_ID_ANY,
                            RING_F_SP_ENQ | RING_F_SC_DEQ);
  }
  const int port_id = rte_eth_from_rings("net_ring_multi", rx, 2, tx, 2, SOCKET_ID_ANY);
  ASSERT_GE(port_id, 0);
  DpdkPortConfig pc;
  pc.port_id = static_cast<uint16_t>(port_id);
  pc.queues = 2;
  pc.mbufs_per_queue = 1023;
  pc.mempool_cache = 0;
  pc.stack.ip = kOurIp;
  pc.plan.min_port = 40000;
  pc.plan.max_port = 40009;
  pc.plan.workers = 2;
  pc.idle_sleep_us = 0;
  std::string error;
  auto port = DpdkPort::open(pc, &error);
  ASSERT_TRUE(port) << error;
  std::unique_ptr<PacketPool> pools[2];
  std::unique_ptr<UdpEngine> engines[2];
  for (uint32_t q = 0; q < 2; ++q) {
    pools[q] = std::make_unique<PacketPool>(port->buffer_source(q), kDpdkHeadroom);
    engines[q] = make_dpdk_engine(*port, q, *pools[q], &error);
    ASSERT_TRUE(engines[q]) << error;
  }
  ASSERT_EQ(pc.plan.owner(40001), 1u);
  ASSERT_EQ(engines[1]->add_socket(binding(40001), &error), 0) << error;
  const wire::MacAddress mac = port->stack_config().mac;
  std::vector<uint8_t> f(14 + 20 + 8 + 5);
  wire::write_ethernet_header(f.data(), mac, kPeerMac, wire::kEtherTypeIpv4);
  wire::write_ipv4_header(f.data() + 14, kPeerIp, kOurIp, wire::kIpProtoUdp, 13, 1, 64, true);
  wire::write_udp_header(f.data() + 34, 5000, 40001, 5);
  std::memcpy(f.data() + 42, "hello", 5);
  wire::store_be16(f.data() + 40, wire::udp_ipv4_checksum(kPeerIp, kOurIp, f.data() + 34, 13));
  rte_mbuf* m = rte_pktmbuf_alloc(test_pool_);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  ASSERT_EQ(rte_ring_enqueue(rx[0], m), 0);

  RxPacket out[4];
  EXPECT_EQ(engines[0]->rx_burst(out, 4, 0), 0u);
  EXPECT_EQ(engines[0]->stats().rx_handed_off, 1u);
  ASSERT_EQ(engines[1]->rx_burst(out, 4, 0), 1u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out[0].buf->data()), out[0].buf->len),
            "hello");
  pools[1]->release(out[0].buf);
  pools[1]->flush();
  // The sender's MAC was learned by the owner: its answer needs no ARP.
  PacketBuffer* b = pools[1]->alloc();
  std::memcpy(b->data(), "back", 4);
  b->len = 4;
  TxPacket t{b, 0, *SocketAddress::parse("10.77.0.3", 5000)};
  engines[1]->tx_burst(&t, 1);
  void* sent = nullptr;
  ASSERT_EQ(rte_ring_dequeue(tx[1], &sent), 0);
  rte_pktmbuf_free(static_cast<rte_mbuf*>(sent));
  EXPECT_NE(rte_ring_dequeue(tx[0], &sent), 0) << "worker 1 sends on its own queue";

  for (auto& e : engines) e.reset();
  for (auto& p : pools) p.reset();
  port.reset();
  for (int q = 0; q < 2; ++q) {
    rte_ring_free(rx[q]);
    rte_ring_free(tx[q]);
  }
}

}  // namespace
}  // namespace weir::dp
