// DCEP (RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK parsed from hand-encoded bytes,
// every malformation refused, and the writer's output parsed back.
#include "wire/dcep_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace weir::wire {
namespace {

// What a browser sends for createDataChannel("chat", {ordered: false, maxRetransmits: 3,
// protocol: "x"}): type 3, channel type 0x81, priority 256 ("low"), 3 retransmits, label
// length 4, protocol length 1.
const std::vector<uint8_t> kOpenUnorderedRexmit = {0x03, 0x81, 0x01, 0x00, 0x00, 0x00,
                                                   0x00, 0x03, 0x00, 0x04, 0x00, 0x01,
                                                   'c',  'h',  'a',  't',  'x'};

TEST(DcepMessage, ParsesAnOpenWithLabelProtocolAndReliability) {
  DcepOpen open;
  ASSERT_TRUE(parse_dcep_open(kOpenUnorderedRexmit.data(), kOpenUnorderedRexmit.size(), open));
  EXPECT_EQ(open.channel_type, DcepChannelType::partial_reliable_rexmit_unordered);
  EXPECT_FALSE(open.ordered());
  EXPECT_TRUE(open.limited_retransmits());
  EXPECT_FALSE(open.limited_lifetime());
  EXPECT_EQ(open.priority, 256);
  EXPECT_EQ(open.reliability_parameter, 3u);
  EXPECT_EQ(open.label, "chat");
  EXPECT_EQ(open.protocol, "x");
  EXPECT_EQ(dcep_message_type(kOpenUnorderedRexmit.data(), kOpenUnorderedRexmit.size()),
            kDcepMessageOpen);
}

TEST(DcepMessage, ParsesAReliableOrderedOpenWithEmptyStrings) {
  const std::vector<uint8_t> bytes = {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  DcepOpen open;
  ASSERT_TRUE(parse_dcep_open(bytes.data(), bytes.size(), open));
  EXPECT_TRUE(open.ordered());
  EXPECT_FALSE(open.limited_retransmits());
  EXPECT_FALSE(open.limited_lifetime());
  EXPECT_TRUE(open.label.empty());
  EXPECT_TRUE(open.protocol.empty());
}

TEST(DcepMessage, TimedChannelType) {
  std::vector<uint8_t> bytes = kOpenUnorderedRexmit;
  bytes[1] = 0x02;
  DcepOpen open;
  ASSERT_TRUE(parse_dcep_open(bytes.data(), bytes.size(), open));
  EXPECT_TRUE(open.ordered());
  EXPECT_TRUE(open.limited_lifetime());
}

TEST(DcepMessage, RefusesMalformedOpens) {
  DcepOpen open;
  // Every truncation.
  for (size_t n = 0; n < kOpenUnorderedRexmit.size(); ++n) {
    EXPECT_FALSE(parse_dcep_open(kOpenUnorderedRexmit.data(), n, open)) << n;
  }
  // A trailing byte.
  std::vector<uint8_t> longer = kOpenUnorderedRexmit;
  longer.push_back('!');
  EXPECT_FALSE(parse_dcep_open(longer.data(), longer.size(), open));
  // Lengths that point past the end.
  std::vector<uint8_t> lying = kOpenUnorderedRexmit;
  lying[9] = 0xff;
  EXPECT_FALSE(parse_dcep_open(lying.data(), lying.size(), open));
  // Unknown channel types.
  for (uint8_t type : {0x03, 0x7f, 0x83, 0xff}) {
    std::vector<uint8_t> bad = kOpenUnorderedRexmit;
    bad[1] = type;
    EXPECT_FALSE(parse_dcep_open(bad.data(), bad.size(), open)) << int(type);
  }
  // Not an open.
  std::vector<uint8_t> ack_typed = kOpenUnorderedRexmit;
  ack_typed[0] = kDcepMessageAck;
  EXPECT_FALSE(parse_dcep_open(ack_typed.data(), ack_typed.size(), open));
  EXPECT_FALSE(parse_dcep_open(nullptr, 0, open));
}

TEST(DcepMessage, AckIsExactlyOneByte) {
  const uint8_t ack[] = {0x02, 0x00};
  EXPECT_TRUE(is_dcep_ack(ack, 1));
  EXPECT_FALSE(is_dcep_ack(ack, 2));
  EXPECT_FALSE(is_dcep_ack(ack, 0));
  const uint8_t open_byte = 0x03;
  EXPECT_FALSE(is_dcep_ack(&open_byte, 1));
  EXPECT_EQ(dcep_message_type(ack, 0), 0);
  uint8_t out[1];
  ASSERT_EQ(write_dcep_ack(out, sizeof out), 1u);
  EXPECT_TRUE(is_dcep_ack(out, 1));
  EXPECT_EQ(write_dcep_ack(out, 0), 0u);
}

TEST(DcepMessage, WriterRoundTripsAndRefusesShortBuffers) {
  DcepOpen open;
  open.channel_type = DcepChannelType::partial_reliable_rexmit_unordered;
  open.priority = 256;
  open.reliability_parameter = 3;
  open.label = "chat";
  open.protocol = "x";
  ASSERT_EQ(dcep_open_size(open), kOpenUnorderedRexmit.size());
  std::vector<uint8_t> out(64);
  const size_t n = write_dcep_open(open, out.data(), out.size());
  ASSERT_EQ(n, kOpenUnorderedRexmit.size());
  out.resize(n);
  EXPECT_EQ(out, kOpenUnorderedRexmit);
  EXPECT_EQ(write_dcep_open(open, out.data(), n - 1), 0u);

  const std::string huge(70000, 'a');
  open.label = huge;
  EXPECT_EQ(dcep_open_size(open), 0u);
  std::vector<uint8_t> big(80000);
  EXPECT_EQ(write_dcep_open(open, big.data(), big.size()), 0u);
}

}  // namespace
}  // namespace weir::wire
