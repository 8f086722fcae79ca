// Ethernet headers and MAC addresses, and ARP (RFC 826): hand-built packets, every field
// the parser refuses, and writer output parsed back. The kernel's own ARP frames are in
// net_captured_frames_test.cc.
#include <gtest/gtest.h>

#include <vector>

#include "wire/arp_packet.h"
#include "wire/ethernet_frame.h"

namespace weir::wire {
namespace {

const MacAddress kMacA{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
const MacAddress kMacB{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};

TEST(MacAddress, Classifies) {
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  EXPECT_FALSE(MacAddress::broadcast().is_zero());
  EXPECT_TRUE(MacAddress{}.is_zero());
  EXPECT_FALSE(kMacA.is_multicast());
  EXPECT_FALSE(kMacA.is_broadcast());
  EXPECT_TRUE((MacAddress{{0x33, 0x33, 0, 0, 0, 1}}.is_multicast()));
  EXPECT_TRUE((MacAddress{{0x01, 0x00, 0x5e, 0, 0, 1}}.is_multicast()));
  EXPECT_FALSE((MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}}.is_broadcast()));
  EXPECT_FALSE(kMacA == kMacB);
}

TEST(MacAddress, TextRoundTrip) {
  EXPECT_EQ(kMacA.to_string(), "02:00:00:00:00:01");
  EXPECT_EQ((MacAddress{{0xde, 0xad, 0xbe, 0xef, 0x0a, 0xff}}.to_string()), "de:ad:be:ef:0a:ff");
  EXPECT_EQ(MacAddress::parse("02:00:00:00:00:01"), kMacA);
  EXPECT_EQ(MacAddress::parse("DE:AD:be:EF:0a:FF"),
            (MacAddress{{0xde, 0xad, 0xbe, 0xef, 0x0a, 0xff}}));
  EXPECT_EQ(MacAddress::parse("02-00-00-00-00-02"), kMacB);
  for (const char* bad :
       {"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:0g", "02:00-00:00:00:01",
        "02.00.00.00.00.01", "2:00:00:00:00:001", "0200:00:00:00:01", " 2:00:00:00:00:01"}) {
    EXPECT_FALSE(MacAddress::parse(bad).has_value()) << bad;
  }
}

TEST(Ethernet, ParsesAndWritesHeaders) {
  uint8_t frame[60] = {};
  write_ethernet_header(frame, kMacB, kMacA, kEtherTypeIpv4);
  const uint8_t expected[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
  EXPECT_EQ(std::vector<uint8_t>(frame, frame + 14), std::vector<uint8_t>(expected, expected + 14));
  auto eth = parse_ethernet(frame, sizeof frame);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->dst, kMacB);
  EXPECT_EQ(eth->src, kMacA);
  EXPECT_EQ(eth->ether_type, kEtherTypeIpv4);
  EXPECT_EQ(eth->payload_offset, kEthernetHeaderSize);
  // Exactly a header, no payload: fine.
  EXPECT_TRUE(parse_ethernet(frame, 14));
  for (size_t n = 0; n < 14; ++n) EXPECT_FALSE(parse_ethernet(frame, n)) << n;
}

TEST(Ethernet, VlanTaggedFramesComeBackAsTheyAre) {
  // 802.1Q tag (VID 5) then IPv4: the caller sees 0x8100 and drops it.
  uint8_t frame[18] = {};
  write_ethernet_header(frame, kMacB, kMacA, kEtherTypeVlan);
  frame[14] = 0x00;
  frame[15] = 0x05;
  frame[16] = 0x08;
  frame[17] = 0x00;
  auto eth = parse_ethernet(frame, sizeof frame);
  ASSERT_TRUE(eth);
  EXPECT_EQ(eth->ether_type, kEtherTypeVlan);
  EXPECT_EQ(eth->payload_offset, 14u);
}

// A request from 192.0.2.2 (kMacB) for 192.0.2.1, as RFC 826 lays it out.
const std::vector<uint8_t> kRequest = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00,
                                       0x00, 0x00, 0x00, 0x02, 0xc0, 0x00, 0x02, 0x02, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01};

TEST(Arp, ParsesARequest) {
  auto arp = parse_arp(kRequest.data(), kRequest.size());
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->op, kArpRequest);
  EXPECT_EQ(arp->sender_mac, kMacB);
  EXPECT_EQ(arp->sender_ip, 0xC0000202u);
  EXPECT_TRUE(arp->target_mac.is_zero());
  EXPECT_EQ(arp->target_ip, 0xC0000201u);
}

TEST(Arp, AllowsTrailingPadding) {
  // In a minimum-size (60-byte) frame 18 zero bytes follow the 28.
  std::vector<uint8_t> padded = kRequest;
  padded.resize(46, 0);
  EXPECT_TRUE(parse_arp(padded.data(), padded.size()));
}

TEST(Arp, RefusesEveryMalformation) {
  for (size_t n = 0; n < kArpPacketSize; ++n) EXPECT_FALSE(parse_arp(kRequest.data(), n)) << n;
  struct Case {
    size_t offset;
    uint8_t value;
    const char* what;
  };
  for (const Case& c : {Case{1, 6, "hardware type 6 (IEEE 802)"}, Case{0, 1, "hardware type 0x101"},
                        Case{2, 0x86, "protocol type 0x8600"},
                        Case{3, 0xDD, "protocol type 0x08DD"}, Case{4, 8, "hardware length 8"},
                        Case{5, 16, "protocol length 16"}, Case{7, 0, "operation 0"},
                        Case{7, 3, "operation 3 (RARP request)"}, Case{6, 1, "operation 0x101"}}) {
    std::vector<uint8_t> bad = kRequest;
    bad[c.offset] = c.value;
    EXPECT_FALSE(parse_arp(bad.data(), bad.size())) << c.what;
  }
}

TEST(Arp, WriteParseRoundTrip) {
  ArpPacket reply;
  reply.op = kArpReply;
  reply.sender_mac = kMacA;
  reply.sender_ip = 0xC0000201;
  reply.target_mac = kMacB;
  reply.target_ip = 0xC0000202;
  uint8_t out[kArpPacketSize];
  write_arp(out, reply);
  auto parsed = parse_arp(out, sizeof out);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->op, kArpReply);
  EXPECT_EQ(parsed->sender_mac, kMacA);
  EXPECT_EQ(parsed->sender_ip, 0xC0000201u);
  EXPECT_EQ(parsed->target_mac, kMacB);
  EXPECT_EQ(parsed->target_ip, 0xC0000202u);
  // And the request parsed above writes back to the same bytes.
  uint8_t again[kArpPacketSize];
  write_arp(again, *parse_arp(kRequest.data(), kRequest.size()));
  EXPECT_EQ(std::vector<uint8_t>(again, again + kArpPacketSize), kRequest);
}

}  // namespace
}  // namespace weir::wire
