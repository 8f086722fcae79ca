// IPv6 headers, the L4 checksum over the IPv6 pseudo header, addresses, ICMPv6 echo and
// neighbor discovery (RFC 4861): every refusal of each parser on hand-built packets and the
// writers' output parsed back. Kernel-made frames are in net_captured_frames_test.cc.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"
#include "wire/ipv6_packet.h"
#include "wire/udp_datagram.h"

namespace weir::wire {
namespace {

Ipv6Address addr(const char* text) { return *parse_ipv6_address(text); }

const Ipv6Address kA = addr("2001:db8::1");
const Ipv6Address kB = addr("2001:db8::2");
const MacAddress kMacA{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddress kMacB{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

Ipv6View view(const Ipv6Address& src, const Ipv6Address& dst, uint8_t hop_limit = 255) {
  Ipv6View v;
  v.src = src;
  v.dst = dst;
  v.next_header = kIpProtoIcmpv6;
  v.hop_limit = hop_limit;
  return v;
}

TEST(Ipv6, WriterOutputParsesBack) {
  std::vector<uint8_t> p(kIpv6HeaderSize + 12, 0xAB);
  write_ipv6_header(p.data(), kA, kB, kIpProtoUdp, 12, 64);
  EXPECT_EQ(load_be32(p.data()), 0x60000000u);
  Ipv6View v;
  ASSERT_EQ(parse_ipv6(p.data(), p.size(), &v), Ipv6Error::none);
  EXPECT_EQ(v.src, kA);
  EXPECT_EQ(v.dst, kB);
  EXPECT_EQ(v.next_header, kIpProtoUdp);
  EXPECT_EQ(v.hop_limit, 64);
  EXPECT_EQ(v.payload_len, 12u);
  // Padding after the payload is fine; a payload running past the buffer is not.
  p.resize(p.size() + 6, 0);
  EXPECT_EQ(parse_ipv6(p.data(), p.size(), &v), Ipv6Error::none);
  EXPECT_EQ(v.payload_len, 12u);
  EXPECT_EQ(parse_ipv6(p.data(), kIpv6HeaderSize + 11, &v), Ipv6Error::bad_payload_length);
  EXPECT_EQ(parse_ipv6(p.data(), kIpv6HeaderSize, &v), Ipv6Error::bad_payload_length);
}

TEST(Ipv6, RefusesEveryMalformation) {
  std::vector<uint8_t> p(kIpv6HeaderSize);
  write_ipv6_header(p.data(), kA, kB, kIpProtoUdp, 0, 64);
  Ipv6View v;
  EXPECT_EQ(parse_ipv6(p.data(), p.size(), &v), Ipv6Error::none);
  for (size_t n = 0; n < kIpv6HeaderSize; ++n) {
    EXPECT_EQ(parse_ipv6(p.data(), n, &v), Ipv6Error::too_short) << n;
  }
  for (uint8_t version : {0x40, 0x00, 0x70, 0xF0}) {
    std::vector<uint8_t> bad = p;
    bad[0] = version;
    EXPECT_EQ(parse_ipv6(bad.data(), bad.size(), &v), Ipv6Error::bad_version) << int{version};
  }
  for (uint8_t next : {0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254}) {
    std::vector<uint8_t> ext = p;
    ext[6] = next;
    EXPECT_EQ(parse_ipv6(ext.data(), ext.size(), &v), Ipv6Error::extension_header) << int{next};
    EXPECT_EQ(v.next_header, next);  // filled, so the caller can count what it dropped
  }
  for (uint8_t next : {6, 17, 58, 59}) {  // TCP, UDP, ICMPv6, no next header
    std::vector<uint8_t> ok = p;
    ok[6] = next;
    EXPECT_EQ(parse_ipv6(ok.data(), ok.size(), &v), Ipv6Error::none) << int{next};
  }
}

TEST(Ipv6, AddressText) {
  EXPECT_EQ(ipv6_address_to_string(kA), "2001:db8::1");
  EXPECT_EQ(ipv6_address_to_string(Ipv6Address{}), "::");
  EXPECT_EQ(ipv6_address_to_string(addr("::1")), "::1");
  EXPECT_EQ(ipv6_address_to_string(addr("FE80:0:0:0:0200:00FF:FE00:0001")), "fe80::200:ff:fe00:1");
  EXPECT_EQ(ipv6_address_to_string(addr("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
  const Ipv6Address mapped = addr("::ffff:192.0.2.1");
  EXPECT_EQ(mapped[10], 0xFF);
  EXPECT_EQ(mapped[12], 192);
  EXPECT_EQ(mapped[15], 1);
  for (const char* bad : {"", ":", ":::", "1::2::3", "2001:db8::1%eth0", "2001:db8::g",
                          "1:2:3:4:5:6:7:8:9", "12345::", "192.0.2.1",
                          "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000"}) {
    EXPECT_FALSE(parse_ipv6_address(bad)) << bad;
  }
}

TEST(Ipv6, MulticastAddresses) {
  // RFC 4291 2.7.1: ff02::1:ff + the low 24 bits.
  EXPECT_EQ(solicited_node_multicast(addr("2001:db8::12:3456:789a")), addr("ff02::1:ff56:789a"));
  // RFC 2464 7: 33:33 + the low 32 bits.
  EXPECT_EQ(ipv6_multicast_mac(addr("ff02::1:ff00:1")),
            (MacAddress{{0x33, 0x33, 0xff, 0x00, 0x00, 0x01}}));
  EXPECT_EQ(ipv6_multicast_mac(addr("ff02::1")), (MacAddress{{0x33, 0x33, 0, 0, 0, 1}}));
  EXPECT_TRUE(is_ipv6_multicast(addr("ff02::1")));
  EXPECT_FALSE(is_ipv6_multicast(kA));
  EXPECT_TRUE(is_ipv6_unspecified(Ipv6Address{}));
  EXPECT_FALSE(is_ipv6_unspecified(addr("::1")));
}

TEST(Ipv6, UdpChecksumRoundTrip) {
  std::vector<uint8_t> d(kUdpHeaderSize + 3);
  write_udp_header(d.data(), 40001, 5000, 3);
  std::memcpy(d.data() + 8, "abc", 3);
  const uint16_t c = l4_ipv6_checksum(kB, kA, kIpProtoUdp, d.data(), d.size());
  store_be16(d.data() + 6, c);
  // The field does not count: computing again with it filled gives the same.
  EXPECT_EQ(l4_ipv6_checksum(kB, kA, kIpProtoUdp, d.data(), d.size()), c);
  // By hand.
  EXPECT_EQ(checksum_finish(checksum_partial(
                d.data(), d.size(), ipv6_pseudo_header_sum(kB, kA, kIpProtoUdp, d.size()))),
            0);
  UdpView u;
  ASSERT_EQ(parse_udp_ipv6(d.data(), d.size(), kB, kA, true, &u), UdpError::none);
  EXPECT_EQ(u.src_port, 40001);
  EXPECT_EQ(u.payload_len, 3u);
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kB, true, &u), UdpError::none)
      << "swapping source and destination keeps the sum";
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kA, true, &u), UdpError::bad_checksum);
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kA, false, &u), UdpError::none);
  EXPECT_EQ(parse_udp_ipv6(d.data(), 7, kB, kA, true, &u), UdpError::too_short);
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size() - 1, kB, kA, true, &u), UdpError::bad_length);
}

TEST(Ipv6, UdpZeroChecksumIsRefused) {
  std::vector<uint8_t> d(kUdpHeaderSize);
  write_udp_header(d.data(), 1, 2, 0);
  UdpView u;
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kB, true, &u), UdpError::bad_checksum);
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kB, false, &u), UdpError::bad_checksum);
}

TEST(Ipv6, UdpComputedZeroIsSentAsAllOnes) {
  std::vector<uint8_t> d(kUdpHeaderSize + 2, 0);
  write_udp_header(d.data(), 1, 2, 2);
  store_be16(d.data() + 8, l4_ipv6_checksum(kA, kB, kIpProtoUdp, d.data(), d.size()));
  EXPECT_EQ(l4_ipv6_checksum(kA, kB, kIpProtoUdp, d.data(), d.size()), 0xFFFF);
  store_be16(d.data() + 6, 0xFFFF);
  UdpView u;
  EXPECT_EQ(parse_udp_ipv6(d.data(), d.size(), kA, kB, true, &u), UdpError::none);
}

TEST(Ipv6, OtherProtocolsAreSummedWholeAndTcpSkipsItsField) {
  uint8_t tcp[20] = {};
  tcp[16] = 0x12;  // the TCP checksum field does not count
  tcp[17] = 0x34;
  uint8_t zeroed[20] = {};
  EXPECT_EQ(l4_ipv6_checksum(kA, kB, 6, tcp, sizeof tcp),
            checksum_finish(checksum_partial(zeroed, 20, ipv6_pseudo_header_sum(kA, kB, 6, 20))));
  EXPECT_EQ(l4_ipv6_checksum(kA, kB, 99, tcp, sizeof tcp),
            checksum_finish(checksum_partial(tcp, 20, ipv6_pseudo_header_sum(kA, kB, 99, 20))));
  // Shorter than the field's offset: summed as it is.
  EXPECT_EQ(l4_ipv6_checksum(kA, kB, kIpProtoUdp, tcp, 4),
            checksum_finish(checksum_partial(tcp, 4, ipv6_pseudo_header_sum(kA, kB, 17, 4))));
}

TEST(Ndp, AdvertisementRoundTrip) {
  uint8_t na[kNeighborMessageSize];
  ASSERT_EQ(write_neighbor_advertisement(na, kA, kMacA, true, kA, kB), 32u);
  EXPECT_EQ(na[0], kIcmpv6NeighborAdvertisement);
  EXPECT_EQ(na[4], 0x60);  // solicited, override
  auto m = parse_neighbor_message(na, sizeof na, view(kA, kB));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kIcmpv6NeighborAdvertisement);
  EXPECT_EQ(m->target, kA);
  ASSERT_TRUE(m->link_layer);
  EXPECT_EQ(*m->link_layer, kMacA);
  EXPECT_TRUE(m->solicited);
  EXPECT_TRUE(m->override_flag);
  EXPECT_FALSE(m->router);
  // Unsolicited, to all nodes.
  const Ipv6Address all_nodes = addr("ff02::1");
  write_neighbor_advertisement(na, kA, kMacA, false, kA, all_nodes);
  m = parse_neighbor_message(na, sizeof na, view(kA, all_nodes));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->solicited);
}

TEST(Ndp, SolicitationRoundTrip) {
  const Ipv6Address group = solicited_node_multicast(kA);
  uint8_t ns[kNeighborMessageSize];
  ASSERT_EQ(write_neighbor_solicitation(ns, kA, kMacB, kB, group), 32u);
  auto m = parse_neighbor_message(ns, sizeof ns, view(kB, group));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, kIcmpv6NeighborSolicitation);
  EXPECT_EQ(m->target, kA);
  ASSERT_TRUE(m->link_layer);
  EXPECT_EQ(*m->link_layer, kMacB);
  EXPECT_FALSE(m->solicited);
  // Duplicate address detection: from ::, no source link-layer option (RFC 4861 7.2.2).
  ASSERT_EQ(write_neighbor_solicitation(ns, kA, kMacB, Ipv6Address{}, group), 24u);
  m = parse_neighbor_message(ns, 24, view(Ipv6Address{}, group));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->link_layer);
}

TEST(Ndp, SkipsUnknownOptionsAndTakesTheFirstLinkLayerOne) {
  const Ipv6Address group = solicited_node_multicast(kA);
  std::vector<uint8_t> ns(24 + 16 + 8 + 8);
  write_neighbor_solicitation(ns.data(), kA, kMacB, kB, group);  // option at 24
  // Move it behind a 16-byte nonce option (RFC 3971 type 14) and add a second one.
  std::memmove(ns.data() + 40, ns.data() + 24, 8);
  ns[24] = 14;
  ns[25] = 2;
  std::memset(ns.data() + 26, 0x55, 14);
  ns[48] = 1;
  ns[49] = 1;
  std::memcpy(ns.data() + 50, kMacA.bytes.data(), 6);
  store_be16(ns.data() + 2, 0);
  store_be16(ns.data() + 2, l4_ipv6_checksum(kB, group, kIpProtoIcmpv6, ns.data(), ns.size()));
  auto m = parse_neighbor_message(ns.data(), ns.size(), view(kB, group));
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->link_layer, kMacB);
}

TEST(Ndp, RefusesEveryMalformation) {
  uint8_t na[kNeighborMessageSize];
  write_neighbor_advertisement(na, kA, kMacA, true, kA, kB);
  const Ipv6View ip = view(kA, kB);
  ASSERT_TRUE(parse_neighbor_message(na, sizeof na, ip));
  for (size_t n = 0; n < 24; ++n) EXPECT_FALSE(parse_neighbor_message(na, n, ip)) << n;
  EXPECT_FALSE(parse_neighbor_message(na, sizeof na, view(kA, kB, 254))) << "routed: hop limit";
  EXPECT_FALSE(parse_neighbor_message(na, sizeof na, view(kA, kA))) << "checksum (addresses)";

  // Rewrites one byte (or more) and fixes the checksum, so only the named rule refuses it.
  auto refused = [&](auto mutate, const Ipv6View& v, size_t len = sizeof na) {
    uint8_t m[kNeighborMessageSize + 8] = {};
    std::memcpy(m, na, sizeof na);
    mutate(m);
    store_be16(m + 2, 0);
    store_be16(m + 2, l4_ipv6_checksum(v.src, v.dst, kIpProtoIcmpv6, m, len));
    return !parse_neighbor_message(m, len, v).has_value();
  };
  EXPECT_TRUE(refused([](uint8_t* m) { m[1] = 1; }, ip)) << "code 1";
  EXPECT_TRUE(refused([](uint8_t* m) { m[0] = 134; }, ip)) << "router advertisement";
  EXPECT_TRUE(refused([](uint8_t* m) { m[0] = 137; }, ip)) << "redirect";
  EXPECT_TRUE(refused([](uint8_t* m) { m[25] = 0; }, ip)) << "option length 0";
  EXPECT_TRUE(refused([](uint8_t* m) { m[25] = 2; }, ip)) << "option past the end";
  EXPECT_TRUE(refused([](uint8_t*) {}, ip, 25)) << "one byte of an option";
  EXPECT_TRUE(refused([](uint8_t* m) { m[8] = 0xFF; }, ip)) << "multicast target";
  const Ipv6Address all_nodes = addr("ff02::1");
  EXPECT_TRUE(refused([](uint8_t*) {}, view(kA, all_nodes))) << "solicited NA to multicast";
  EXPECT_FALSE(refused([](uint8_t*) {}, ip, 24)) << "no options at all is fine";
  EXPECT_FALSE(refused([](uint8_t* m) { m[24] = 1; }, ip)) << "NA with a source option: ignored";
  auto no_ll = [&](uint8_t* m, size_t len, const Ipv6View& v) {
    store_be16(m + 2, 0);
    store_be16(m + 2, l4_ipv6_checksum(v.src, v.dst, kIpProtoIcmpv6, m, len));
    auto parsed = parse_neighbor_message(m, len, v);
    return parsed && !parsed->link_layer;
  };
  uint8_t with_source[kNeighborMessageSize];
  std::memcpy(with_source, na, sizeof na);
  with_source[24] = 1;
  EXPECT_TRUE(no_ll(with_source, sizeof with_source, ip));

  // Duplicate address detection rules.
  const Ipv6Address group = solicited_node_multicast(kA);
  uint8_t ns[kNeighborMessageSize];
  write_neighbor_solicitation(ns, kA, kMacB, kB, group);
  const Ipv6View dad = view(Ipv6Address{}, group);
  store_be16(ns + 2, 0);
  store_be16(ns + 2, l4_ipv6_checksum(dad.src, dad.dst, kIpProtoIcmpv6, ns, sizeof ns));
  EXPECT_FALSE(parse_neighbor_message(ns, sizeof ns, dad)) << "DAD with a source option";
  write_neighbor_solicitation(ns, kA, kMacB, Ipv6Address{}, kA);
  EXPECT_FALSE(parse_neighbor_message(ns, 24, view(Ipv6Address{}, kA)))
      << "DAD not to the solicited-node group";
}

TEST(Icmpv6Echo, ParseAndReplyInPlace) {
  std::vector<uint8_t> m = {kIcmpv6EchoRequest, 0, 0, 0, 0x43, 0x21, 0x00, 0x07, 'w', 'e', 'i'};
  store_be16(m.data() + 2, l4_ipv6_checksum(kB, kA, kIpProtoIcmpv6, m.data(), m.size()));
  auto echo = parse_icmpv6_echo(m.data(), m.size(), view(kB, kA, 64), true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->type, kIcmpv6EchoRequest);
  EXPECT_EQ(echo->identifier, 0x4321);
  EXPECT_EQ(echo->sequence, 7);
  EXPECT_FALSE(parse_icmpv6_echo(m.data(), m.size(), view(kA, kA, 64), true));
  EXPECT_TRUE(parse_icmpv6_echo(m.data(), m.size(), view(kA, kA, 64), false));
  for (size_t n = 0; n < 8; ++n) EXPECT_FALSE(parse_icmpv6_echo(m.data(), n, view(kB, kA), false));
  std::vector<uint8_t> bad = m;
  bad[1] = 1;
  EXPECT_FALSE(parse_icmpv6_echo(bad.data(), bad.size(), view(kB, kA), false));
  bad = m;
  bad[0] = 1;  // destination unreachable
  EXPECT_FALSE(parse_icmpv6_echo(bad.data(), bad.size(), view(kB, kA), false));

  make_icmpv6_echo_reply(m.data(), m.size(), kA, kB);
  echo = parse_icmpv6_echo(m.data(), m.size(), view(kA, kB, 64), true);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->type, kIcmpv6EchoReply);
  // A reply from a different source (the request went to a multicast group) verifies for it.
  m[0] = kIcmpv6EchoRequest;
  make_icmpv6_echo_reply(m.data(), m.size(), addr("2001:db8::99"), kB);
  EXPECT_TRUE(parse_icmpv6_echo(m.data(), m.size(), view(addr("2001:db8::99"), kB), true));
  // Not a request: untouched.
  const std::vector<uint8_t> before = m;
  make_icmpv6_echo_reply(m.data(), m.size(), kA, kB);
  EXPECT_EQ(m, before);
}

}  // namespace
}  // namespace weir::wire
