// Frames Linux 6.18 itself put on the wire, parsed through the whole stack, and the ones it
// answered with rebuilt byte for byte by our writers.
//
// How they were captured (as root, nothing leaves the two namespaces): namespaces weirnetA
// and weirnetB joined by a veth pair, vA 02:00:00:00:00:01 192.0.2.1/24 2001:db8::1/64 and
// vB 02:00:00:00:00:02 192.0.2.2/24 2001:db8::2/64 (nodad, router solicitations off), and
// `ethtool -K vA|vB tx off rx off tso off gso off gro off` so every checksum is computed and
// verified in software rather than left partial for an offload. In weirnetA a Python
// AF_PACKET socket bound to vA recorded each frame (both directions) and a UDP echo server
// listened on port 5000 (v4 and v6). From weirnetB a Python client sent "weir udp over
// ipv4" from 192.0.2.2:40000 and "weir udp over ipv6" from [2001:db8::2]:40001 (each
// first resolving A: ARP, then neighbor solicitation), got both "pong:" answers back, then
// sent an echo request over a raw ICMP socket (id 0x1234, seq 1, "weir-ping-odd") and one
// over a raw ICMPv6 socket (id 0x4321, seq 7, "weir-ping6"), answered by A's kernel. The
// server and client receiving the datagrams is the kernel's verification of their UDP
// checksums (receive offload off). AF_PACKET sees frames before the padding to 60 bytes.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "wire/arp_packet.h"
#include "wire/byte_io.h"
#include "wire/ethernet_frame.h"
#include "wire/icmp_message.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/ipv6_packet.h"
#include "wire/udp_datagram.h"

namespace weir::wire {
namespace {

std::vector<uint8_t> hex(std::initializer_list<const char*> lines) {
  std::string s;
  for (const char* line : lines) s += line;
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// B -> broadcast: who has 192.0.2.1? tell 192.0.2.2.
const std::vector<uint8_t> kArpRequestFrame = hex({
    "ffffffffffff02000000000208060001",
    "080006040001020000000002c0000202",
    "000000000000c0000201",
});
// A -> B: 192.0.2.1 is at 02:00:00:00:00:01.
const std::vector<uint8_t> kArpReplyFrame = hex({
    "02000000000202000000000108060001",
    "080006040002020000000001c0000201",
    "020000000002c0000202",
});
// B -> A: UDP 192.0.2.2:40000 -> 192.0.2.1:5000 "weir udp over ipv4" (exactly 60 bytes).
const std::vector<uint8_t> kUdp4Request = hex({
    "02000000000102000000000208004500",
    "002e1aeb400040119bd0c0000202c000",
    "02019c401388001a7d96776569722075",
    "6470206f7665722069707634",
});
// A -> B: the echo server's "pong:weir udp over ipv4".
const std::vector<uint8_t> kUdp4Reply = hex({
    "02000000000202000000000108004500",
    "0033078b40004011af2bc0000201c000",
    "020213889c40001f5bbe706f6e673a77",
    "65697220756470206f76657220697076",
    "34",
});
// B -> A: ICMP echo request, id 0x1234 seq 1, 13 bytes of data (an odd-length message).
const std::vector<uint8_t> kPing4 = hex({
    "02000000000102000000000208004500",
    "0029eda240004001c92dc0000202c000",
    "02010800338212340001776569722d70",
    "696e672d6f6464",
});
// A -> B: the kernel's echo reply (DF clear, unlike its UDP).
const std::vector<uint8_t> kPong4 = hex({
    "02000000000202000000000108004500",
    "002988c8000040016e08c0000201c000",
    "020200003b8212340001776569722d70",
    "696e672d6f6464",
});
// B -> ff02::1:ff00:1: neighbor solicitation for 2001:db8::1, source link-layer option.
const std::vector<uint8_t> kNeighborSolicitation = hex({
    "3333ff00000102000000000286dd6000",
    "000000203aff20010db8000000000000",
    "000000000002ff020000000000000000",
    "0001ff00000187001c27000000002001",
    "0db80000000000000000000000010101",
    "020000000002",
});
// A -> B: solicited, override advertisement with target link-layer option.
const std::vector<uint8_t> kNeighborAdvertisement = hex({
    "02000000000202000000000186dd6000",
    "000000203aff20010db8000000000000",
    "00000000000120010db8000000000000",
    "00000000000288008a73600000002001",
    "0db80000000000000000000000010201",
    "020000000001",
});
// B -> A: UDP [2001:db8::2]:40001 -> [2001:db8::1]:5000 "weir udp over ipv6" (flow label set).
const std::vector<uint8_t> kUdp6Request = hex({
    "02000000000102000000000286dd6004",
    "d2f4001a114020010db8000000000000",
    "00000000000220010db8000000000000",
    "0000000000019c411388001aa6227765",
    "697220756470206f7665722069707636",
});
// A -> B: "pong:weir udp over ipv6".
const std::vector<uint8_t> kUdp6Reply = hex({
    "02000000000202000000000186dd600d",
    "aba7001f114020010db8000000000000",
    "00000000000120010db8000000000000",
    "00000000000213889c41001f824c706f",
    "6e673a7765697220756470206f766572",
    "2069707636",
});
// B -> A: ICMPv6 echo request id 0x4321 seq 7 "weir-ping6", and A's kernel's reply.
const std::vector<uint8_t> kPing6 = hex({
    "02000000000102000000000286dd6000",
    "e75800123a4020010db8000000000000",
    "00000000000220010db8000000000000",
    "00000000000180000229432100077765",
    "69722d70696e6736",
});
const std::vector<uint8_t> kPong6 = hex({
    "02000000000202000000000186dd6004",
    "32a400123a4020010db8000000000000",
    "00000000000120010db8000000000000",
    "00000000000281000129432100077765",
    "69722d70696e6736",
});
// B -> ff02::16: its MLDv2 report when vB came up, behind a hop-by-hop options header
// (router alert): the one extension header the worker sees in practice.
const std::vector<uint8_t> kMldReport = hex({
    "33330000001602000000000286dd6000",
    "000000240001fe800000000000000000",
    "00fffe000002ff020000000000000000",
    "0000000000163a000502000001008f00",
    "72050000000104000000ff0200000000",
    "000000000001ff000002",
});

const MacAddress kMacA{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddress kMacB{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
constexpr uint32_t kIpA = 0xC0000201;
constexpr uint32_t kIpB = 0xC0000202;
const Ipv6Address kIp6A = *parse_ipv6_address("2001:db8::1");
const Ipv6Address kIp6B = *parse_ipv6_address("2001:db8::2");

TEST(CapturedFrames, ArpRequestAndOurReplyIsTheKernels) {
  auto eth = parse_ethernet(kArpRequestFrame.data(), kArpRequestFrame.size());
  ASSERT_TRUE(eth);
  EXPECT_TRUE(eth->dst.is_broadcast());
  EXPECT_EQ(eth->src, kMacB);
  ASSERT_EQ(eth->ether_type, kEtherTypeArp);
  auto arp = parse_arp(kArpRequestFrame.data() + eth->payload_offset,
                       kArpRequestFrame.size() - eth->payload_offset);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, kArpRequest);
  EXPECT_EQ(arp->sender_mac, kMacB);
  EXPECT_EQ(arp->sender_ip, kIpB);
  EXPECT_TRUE(arp->target_mac.is_zero());
  EXPECT_EQ(arp->target_ip, kIpA);

  // Answer the way the worker will; it must be what Linux sent.
  std::vector<uint8_t> reply(kEthernetHeaderSize + kArpPacketSize);
  write_ethernet_header(reply.data(), arp->sender_mac, kMacA, kEtherTypeArp);
  ArpPacket answer{kArpReply, kMacA, kIpA, arp->sender_mac, arp->sender_ip};
  write_arp(reply.data() + kEthernetHeaderSize, answer);
  EXPECT_EQ(reply, kArpReplyFrame);

  // The reply parses too, padded to a minimum frame.
  std::vector<uint8_t> padded = kArpReplyFrame;
  padded.resize(60, 0);
  auto r = parse_arp(padded.data() + 14, padded.size() - 14);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, kArpReply);
  EXPECT_EQ(r->sender_mac, kMacA);
  EXPECT_EQ(r->target_ip, kIpB);
}

TEST(CapturedFrames, UdpOverIpv4ParsesAndItsChecksumIsOurs) {
  for (const auto* frame : {&kUdp4Request, &kUdp4Reply}) {
    auto eth = parse_ethernet(frame->data(), frame->size());
    ASSERT_TRUE(eth);
    ASSERT_EQ(eth->ether_type, kEtherTypeIpv4);
    const uint8_t* ip = frame->data() + eth->payload_offset;
    Ipv4View v;
    ASSERT_EQ(parse_ipv4(ip, frame->size() - eth->payload_offset, true, &v), Ipv4Error::none);
    EXPECT_EQ(v.protocol, kIpProtoUdp);
    EXPECT_EQ(v.ttl, 64);
    // The kernel's header checksum is ours.
    EXPECT_EQ(load_be16(ip + 10), ipv4_header_checksum(ip, v.header_size));
    const uint8_t* udp = ip + v.header_size;
    const size_t udp_len = v.total_length - v.header_size;
    UdpView u;
    ASSERT_EQ(parse_udp_ipv4(udp, udp_len, v.src, v.dst, true, &u), UdpError::none);
    // The kernel-computed (and, on the other side, kernel-verified) checksum is ours.
    EXPECT_EQ(load_be16(udp + 6), udp_ipv4_checksum(v.src, v.dst, udp, udp_len));
  }
  Ipv4View v;
  const uint8_t* ip = kUdp4Request.data() + 14;
  ASSERT_EQ(parse_ipv4(ip, kUdp4Request.size() - 14, true, &v), Ipv4Error::none);
  EXPECT_EQ(v.src, kIpB);
  EXPECT_EQ(v.dst, kIpA);
  EXPECT_EQ(v.id, 0x1aeb);
  UdpView u;
  ASSERT_EQ(parse_udp_ipv4(ip + 20, v.total_length - 20, v.src, v.dst, true, &u), UdpError::none);
  EXPECT_EQ(u.src_port, 40000);
  EXPECT_EQ(u.dst_port, 5000);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ip + 20 + u.payload_offset), u.payload_len),
            "weir udp over ipv4");
  // One bit off anywhere in the datagram and verification fails.
  for (size_t i = 20; i < v.total_length; ++i) {
    std::vector<uint8_t> bad(ip, ip + v.total_length);
    bad[i] ^= 0x10;
    if (i == 24 || i == 25) continue;  // the length field: caught as bad_length or mis-sized
    EXPECT_EQ(parse_udp_ipv4(bad.data() + 20, v.total_length - 20, v.src, v.dst, true, &u),
              UdpError::bad_checksum)
        << i;
  }
}

TEST(CapturedFrames, OurUdpReplyIsTheKernels) {
  // Same addresses, ports, IP id and TTL: the writers produce the kernel's bytes exactly.
  const std::string payload = "pong:weir udp over ipv4";
  std::vector<uint8_t> frame(14 + 20 + 8 + payload.size());
  write_ethernet_header(frame.data(), kMacB, kMacA, kEtherTypeIpv4);
  write_ipv4_header(frame.data() + 14, kIpA, kIpB, kIpProtoUdp,
                    static_cast<uint16_t>(8 + payload.size()), 0x078b, 64, true);
  uint8_t* udp = frame.data() + 34;
  write_udp_header(udp, 5000, 40000, static_cast<uint16_t>(payload.size()));
  std::memcpy(udp + 8, payload.data(), payload.size());
  store_be16(udp + 6, udp_ipv4_checksum(kIpA, kIpB, udp, 8 + payload.size()));
  EXPECT_EQ(frame, kUdp4Reply);
}

TEST(CapturedFrames, OurEchoReplyIsTheKernels) {
  Ipv4View v;
  ASSERT_EQ(parse_ipv4(kPing4.data() + 14, kPing4.size() - 14, true, &v), Ipv4Error::none);
  ASSERT_EQ(v.protocol, kIpProtoIcmp);
  std::vector<uint8_t> icmp(kPing4.begin() + 14 + v.header_size, kPing4.end());
  auto echo = parse_icmp_echo(icmp.data(), icmp.size(), true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->type, kIcmpEchoRequest);
  EXPECT_EQ(echo->identifier, 0x1234);
  EXPECT_EQ(echo->sequence, 1);
  make_icmp_echo_reply(icmp.data(), icmp.size());
  EXPECT_EQ(icmp, std::vector<uint8_t>(kPong4.begin() + 34, kPong4.end()));

  Ipv4View r;
  ASSERT_EQ(parse_ipv4(kPong4.data() + 14, kPong4.size() - 14, true, &r), Ipv4Error::none);
  auto pong = parse_icmp_echo(kPong4.data() + 34, kPong4.size() - 34, true);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->type, kIcmpEchoReply);
  // And our writer produces the kernel's request bytes.
  uint8_t built[21];
  write_icmp_echo(built, kIcmpEchoRequest, 0x1234, 1,
                  reinterpret_cast<const uint8_t*>("weir-ping-odd"), 13);
  EXPECT_EQ(std::vector<uint8_t>(built, built + 21),
            std::vector<uint8_t>(kPing4.begin() + 34, kPing4.end()));
}

TEST(CapturedFrames, NeighborDiscoveryBothWays) {
  auto eth = parse_ethernet(kNeighborSolicitation.data(), kNeighborSolicitation.size());
  ASSERT_TRUE(eth);
  ASSERT_EQ(eth->ether_type, kEtherTypeIpv6);
  Ipv6View ip;
  ASSERT_EQ(parse_ipv6(kNeighborSolicitation.data() + 14, kNeighborSolicitation.size() - 14, &ip),
            Ipv6Error::none);
  EXPECT_EQ(ip.next_header, kIpProtoIcmpv6);
  EXPECT_EQ(ip.hop_limit, 255);
  EXPECT_EQ(ip.src, kIp6B);
  EXPECT_EQ(ip.dst, solicited_node_multicast(kIp6A));
  EXPECT_EQ(eth->dst, ipv6_multicast_mac(ip.dst));
  auto ns = parse_neighbor_message(kNeighborSolicitation.data() + 54, ip.payload_len, ip);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->type, kIcmpv6NeighborSolicitation);
  EXPECT_EQ(ns->target, kIp6A);
  ASSERT_TRUE(ns->link_layer);
  EXPECT_EQ(*ns->link_layer, kMacB);

  // Our advertisement in answer is byte for byte the kernel's.
  std::vector<uint8_t> na(14 + 40 + kNeighborMessageSize);
  write_ethernet_header(na.data(), *ns->link_layer, kMacA, kEtherTypeIpv6);
  const size_t len =
      write_neighbor_advertisement(na.data() + 54, ns->target, kMacA, true, kIp6A, ip.src);
  write_ipv6_header(na.data() + 14, kIp6A, ip.src, kIpProtoIcmpv6, static_cast<uint16_t>(len),
                    kNdpHopLimit);
  EXPECT_EQ(na, kNeighborAdvertisement);

  Ipv6View nip;
  ASSERT_EQ(
      parse_ipv6(kNeighborAdvertisement.data() + 14, kNeighborAdvertisement.size() - 14, &nip),
      Ipv6Error::none);
  auto adv = parse_neighbor_message(kNeighborAdvertisement.data() + 54, nip.payload_len, nip);
  ASSERT_TRUE(adv);
  EXPECT_EQ(adv->type, kIcmpv6NeighborAdvertisement);
  EXPECT_TRUE(adv->solicited);
  EXPECT_TRUE(adv->override_flag);
  EXPECT_FALSE(adv->router);
  EXPECT_EQ(*adv->link_layer, kMacA);

  // And our solicitation is the kernel's.
  std::vector<uint8_t> sol(14 + 40 + kNeighborMessageSize);
  const Ipv6Address group = solicited_node_multicast(kIp6A);
  write_ethernet_header(sol.data(), ipv6_multicast_mac(group), kMacB, kEtherTypeIpv6);
  const size_t sol_len = write_neighbor_solicitation(sol.data() + 54, kIp6A, kMacB, kIp6B, group);
  write_ipv6_header(sol.data() + 14, kIp6B, group, kIpProtoIcmpv6, static_cast<uint16_t>(sol_len),
                    kNdpHopLimit);
  EXPECT_EQ(sol, kNeighborSolicitation);
}

TEST(CapturedFrames, UdpOverIpv6ParsesAndItsChecksumIsOurs) {
  for (const auto* frame : {&kUdp6Request, &kUdp6Reply}) {
    Ipv6View ip;
    ASSERT_EQ(parse_ipv6(frame->data() + 14, frame->size() - 14, &ip), Ipv6Error::none);
    ASSERT_EQ(ip.next_header, kIpProtoUdp);
    EXPECT_EQ(ip.hop_limit, 64);
    const uint8_t* udp = frame->data() + 54;
    UdpView u;
    ASSERT_EQ(parse_udp_ipv6(udp, ip.payload_len, ip.src, ip.dst, true, &u), UdpError::none);
    EXPECT_EQ(load_be16(udp + 6),
              l4_ipv6_checksum(ip.src, ip.dst, kIpProtoUdp, udp, ip.payload_len));
  }
  Ipv6View ip;
  ASSERT_EQ(parse_ipv6(kUdp6Request.data() + 14, kUdp6Request.size() - 14, &ip), Ipv6Error::none);
  EXPECT_EQ(ip.src, kIp6B);
  EXPECT_EQ(ip.dst, kIp6A);
  UdpView u;
  ASSERT_EQ(parse_udp_ipv6(kUdp6Request.data() + 54, ip.payload_len, ip.src, ip.dst, true, &u),
            UdpError::none);
  EXPECT_EQ(u.src_port, 40001);
  EXPECT_EQ(u.dst_port, 5000);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(kUdp6Request.data() + 54 + 8), u.payload_len),
            "weir udp over ipv6");
}

TEST(CapturedFrames, OurIcmpv6EchoReplyIsTheKernels) {
  Ipv6View ip;
  ASSERT_EQ(parse_ipv6(kPing6.data() + 14, kPing6.size() - 14, &ip), Ipv6Error::none);
  ASSERT_EQ(ip.next_header, kIpProtoIcmpv6);
  std::vector<uint8_t> icmp(kPing6.begin() + 54, kPing6.end());
  auto echo = parse_icmpv6_echo(icmp.data(), icmp.size(), ip, true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->identifier, 0x4321);
  EXPECT_EQ(echo->sequence, 7);
  make_icmpv6_echo_reply(icmp.data(), icmp.size(), ip.dst, ip.src);
  EXPECT_EQ(icmp, std::vector<uint8_t>(kPong6.begin() + 54, kPong6.end()));
  // Neither is a neighbor message.
  EXPECT_FALSE(parse_neighbor_message(kPing6.data() + 54, ip.payload_len, ip));
}

TEST(CapturedFrames, HopByHopHeaderIsAnExtensionHeader) {
  Ipv6View ip;
  EXPECT_EQ(parse_ipv6(kMldReport.data() + 14, kMldReport.size() - 14, &ip),
            Ipv6Error::extension_header);
  EXPECT_EQ(ip.next_header, 0);
  EXPECT_EQ(ip.payload_len, 36u);
}

TEST(CapturedFrames, EveryTruncationIsRefusedSomewhere) {
  // Cut each IPv4 frame short: some layer must say no (never read past the end: ASan).
  for (const auto* frame : {&kUdp4Request, &kUdp4Reply, &kPing4, &kPong4}) {
    for (size_t n = 14; n < frame->size(); ++n) {
      Ipv4View v;
      EXPECT_NE(parse_ipv4(frame->data() + 14, n - 14, true, &v), Ipv4Error::none) << n;
    }
  }
  for (const auto* frame : {&kNeighborSolicitation, &kUdp6Request, &kPing6}) {
    for (size_t n = 14; n < frame->size(); ++n) {
      Ipv6View v;
      EXPECT_NE(parse_ipv6(frame->data() + 14, n - 14, &v), Ipv6Error::none) << n;
    }
  }
}

}  // namespace
}  // namespace weir::wire
