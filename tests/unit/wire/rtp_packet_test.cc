// RTP parsing and writing against byte vectors from pion/rtp's tests and RFC 8285 layouts.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "wire/rtp_packet.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;

// pion/rtp TestRFC8285OneByteMultipleExtensionsWithPadding: ids 1, 2 then two padding
// bytes then id 3, five payload bytes.
const Bytes kOneBytePadded = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27,
                              0x82, 0xBE, 0xDE, 0x00, 0x03, 0x10, 0xAA, 0x21, 0xBB, 0xBB, 0x00,
                              0x00, 0x33, 0xCC, 0xCC, 0xCC, 0xCC, 0x98, 0x36, 0xbe, 0x88, 0x9e};

// pion/rtp TestRFC8285TwoByteMultipleExtensionsWithPadding.
const Bytes kTwoBytePadded = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27,
                              0x82, 0x10, 0x00, 0x00, 0x03, 0x01, 0x00, 0x02, 0x01, 0xBB, 0x00,
                              0x03, 0x04, 0xCC, 0xCC, 0xCC, 0xCC, 0x98, 0x36, 0xbe, 0x88, 0x9e};

Bytes ext(const RtpPacketView& v, uint8_t id) {
  const uint8_t* value = nullptr;
  size_t len = 0;
  if (!v.find_extension(id, value, len)) return {0xDE, 0xAD};  // marks "absent"
  return Bytes(value, value + len);
}

TEST(RtpPacket, ParsesFixedHeaderFields) {
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(kOneBytePadded.data(), kOneBytePadded.size(), v));
  EXPECT_TRUE(v.marker());
  EXPECT_EQ(v.payload_type(), 96);
  EXPECT_EQ(v.sequence_number(), 27023);
  EXPECT_EQ(v.timestamp(), 3653407706u);
  EXPECT_EQ(v.ssrc(), 476325762u);
  EXPECT_EQ(v.csrc_count(), 0);
  EXPECT_EQ(v.header_size(), 28u);
  EXPECT_EQ(v.payload_size(), 5u);
  EXPECT_EQ(v.payload()[0], 0x98);
}

TEST(RtpPacket, OneByteExtensionsWithPaddingBetweenElements) {
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(kOneBytePadded.data(), kOneBytePadded.size(), v));
  ASSERT_TRUE(v.has_extension());
  EXPECT_FALSE(v.two_byte_extensions());
  EXPECT_EQ(v.extension_profile(), 0xBEDE);
  EXPECT_EQ(v.extension_size(), 12u);
  EXPECT_EQ(ext(v, 1), (Bytes{0xAA}));
  EXPECT_EQ(ext(v, 2), (Bytes{0xBB, 0xBB}));
  EXPECT_EQ(ext(v, 3), (Bytes{0xCC, 0xCC, 0xCC, 0xCC}));
  EXPECT_EQ(ext(v, 4), (Bytes{0xDE, 0xAD}));
  std::vector<uint8_t> ids;
  v.for_each_extension([&](uint8_t id, const uint8_t*, size_t) { ids.push_back(id); });
  EXPECT_EQ(ids, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(RtpPacket, TwoByteExtensionsIncludingEmptyElement) {
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(kTwoBytePadded.data(), kTwoBytePadded.size(), v));
  EXPECT_TRUE(v.two_byte_extensions());
  EXPECT_EQ(ext(v, 1), Bytes{});
  EXPECT_EQ(ext(v, 2), (Bytes{0xBB}));
  EXPECT_EQ(ext(v, 3), (Bytes{0xCC, 0xCC, 0xCC, 0xCC}));
  EXPECT_EQ(v.payload_size(), 5u);
}

TEST(RtpPacket, OneByteId15StopsTheWalk) {
  // pion/rtp TestRFC8285OneByteExtensionTermianteProcessingWhenReservedIDEncountered,
  // with an element after the stop that must not be seen.
  const Bytes pkt = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27, 0x82,
                     0xBE, 0xDE, 0x00, 0x01, 0xF0, 0x10, 0xAA, 0x00, 0x98, 0x36};
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  EXPECT_EQ(ext(v, 1), (Bytes{0xDE, 0xAD}));
  int seen = 0;
  v.for_each_extension([&](uint8_t, const uint8_t*, size_t) { ++seen; });
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(v.payload_size(), 2u);
}

TEST(RtpPacket, CsrcsAndPadding) {
  // V=2 P=1 CC=2, PT 111, two CSRCs, 3 payload bytes, 4 padding bytes (count 4).
  const Bytes pkt = {0xA2, 0x6f, 0x00, 0x07, 0x00, 0x00, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44,
                     0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAA, 0xBB, 0xCC,
                     0x00, 0x00, 0x00, 0x04};
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  EXPECT_EQ(v.csrc_count(), 2);
  EXPECT_EQ(v.csrc(0), 0x01020304u);
  EXPECT_EQ(v.csrc(1), 0x05060708u);
  EXPECT_EQ(v.header_size(), 20u);
  EXPECT_EQ(v.padding_size(), 4);
  EXPECT_EQ(v.payload_size(), 3u);
  EXPECT_EQ(v.payload()[2], 0xCC);
  EXPECT_FALSE(v.marker());
  EXPECT_EQ(v.payload_type(), 111);
}

TEST(RtpPacket, RejectsLyingPaddingCounts) {
  Bytes pkt = {0xA0, 0x6f, 0x00, 0x07, 0x00, 0x00, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44,
               0xAA, 0x00, 0x02};
  RtpPacketView v;
  EXPECT_TRUE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  pkt.back() = 0;  // zero cannot count itself
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  pkt.back() = 4;  // more than the payload
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
}

TEST(RtpPacket, RejectsBadVersionAndMalformedExtensions) {
  RtpPacketView v;
  Bytes pkt = kOneBytePadded;
  pkt[0] = 0x50;  // version 1
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));

  // pion/rtp TestExtension: extension bit but no extension header / a huge length.
  const Bytes missing = {0x90, 0x60, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27, 0x82};
  EXPECT_FALSE(RtpPacketView::parse(missing.data(), missing.size(), v));
  const Bytes huge = {0x90, 0x60, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda,
                      0x1c, 0x64, 0x27, 0x82, 0x99, 0x99, 0x99, 0x99};
  EXPECT_FALSE(RtpPacketView::parse(huge.data(), huge.size(), v));

  pkt = kOneBytePadded;
  pkt[23] = 0x3F;  // id 3 claims 16 bytes, the block has 5 left
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  pkt = kOneBytePadded;
  pkt[21] = 0x02;  // id 0 with a length: neither padding nor an element
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  pkt = kTwoBytePadded;
  pkt[23] = 0x05;  // two-byte id 3 claims 5 bytes, 4 left
  EXPECT_FALSE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
}

TEST(RtpPacket, UnknownProfileIsOpaque) {
  // pion/rtp TestBasic: profile 0x0001, not RFC 8285: carried, not walked.
  const Bytes pkt = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27, 0x82, 0x00,
                     0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x98, 0x36, 0xbe, 0x88, 0x9e};
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(pkt.data(), pkt.size(), v));
  EXPECT_EQ(v.extension_profile(), 1);
  EXPECT_EQ(v.extension_size(), 4u);
  EXPECT_EQ(v.header_size(), 20u);
  EXPECT_EQ(v.payload_size(), 5u);
  int seen = 0;
  v.for_each_extension([&](uint8_t, const uint8_t*, size_t) { ++seen; });
  EXPECT_EQ(seen, 0);
}

// Each prefix sits in its own exact-size heap block so ASAN flags any read past it.
TEST(RtpPacket, EveryTruncationFailsOrStaysInBounds) {
  for (const Bytes* full : {&kOneBytePadded, &kTwoBytePadded}) {
    for (size_t n = 0; n <= full->size(); ++n) {
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n == 0 ? 1 : n]);
      if (n > 0) std::memcpy(copy.get(), full->data(), n);
      RtpPacketView v;
      const bool ok = RtpPacketView::parse(copy.get(), n, v);
      // The header ends at byte 28; shorter prefixes cut the extension block.
      EXPECT_EQ(ok, n >= 28) << "prefix " << n;
      if (ok) {
        EXPECT_EQ(v.payload_size(), n - 28);
        v.for_each_extension([](uint8_t, const uint8_t*, size_t) {});
      }
    }
  }
}

// A one-byte block as Chrome sends the first packets of a simulcast stream: MID "0"
// (id 4), RID "r1" (id 10), audio-level-like byte (id 1: V set, level 42).
const Bytes kChromeFirstPacket = {0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
                                  0x00, 0x65, 0xBE, 0xDE, 0x00, 0x02, 0x40, '0',  0xA1, 'r',
                                  '1',  0x10, 0xAA, 0x00, 0x01, 0x02};

TEST(RtpPacket, ExtensionEqualsComparesWholeValues) {
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(kChromeFirstPacket.data(), kChromeFirstPacket.size(), v));
  EXPECT_TRUE(rtp_extension_equals(v, 4, "0", 1));
  EXPECT_TRUE(rtp_extension_equals(v, 10, "r1", 2));
  EXPECT_FALSE(rtp_extension_equals(v, 10, "r", 1));    // a prefix is not the value
  EXPECT_FALSE(rtp_extension_equals(v, 10, "r12", 3));  // nor is a longer one
  EXPECT_FALSE(rtp_extension_equals(v, 10, "r2", 2));
  EXPECT_FALSE(rtp_extension_equals(v, 5, "0", 1));     // absent
  EXPECT_FALSE(rtp_extension_equals(v, 0, "0", 1));     // id 0 is never an element
}

TEST(RtpPacket, AudioLevelDropsTheVoiceActivityBit) {
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(kChromeFirstPacket.data(), kChromeFirstPacket.size(), v));
  uint8_t level = 0xFF;
  ASSERT_TRUE(rtp_audio_level(v, 1, level));
  EXPECT_EQ(level, 0x2A);
  EXPECT_FALSE(rtp_audio_level(v, 2, level));
  EXPECT_FALSE(rtp_audio_level(v, 0, level));
  // The two-byte form allows an empty element: no level in it.
  RtpPacketView two;
  ASSERT_TRUE(RtpPacketView::parse(kTwoBytePadded.data(), kTwoBytePadded.size(), two));
  EXPECT_FALSE(rtp_audio_level(two, 1, level));
  ASSERT_TRUE(rtp_audio_level(two, 2, level));
  EXPECT_EQ(level, 0xBB & 0x7F);
}

TEST(RtpPacket, ClassifiesPerRfc7983AndRfc5761) {
  const uint8_t stun[] = {0x00, 0x01, 0x00, 0x00};
  const uint8_t dtls[] = {22, 0xfe, 0xfd};
  const uint8_t rtp[] = {0x80, 0x60};
  const uint8_t rtp_marker[] = {0x80, 0xe0};  // PT 96 with marker: 224, not RTCP
  const uint8_t rtcp_sr[] = {0x80, 200};
  const uint8_t rtcp_psfb[] = {0x81, 206};
  const uint8_t rtcp_low_edge[] = {0x80, 192};
  const uint8_t rtcp_high_edge[] = {0x80, 223};
  const uint8_t turn_channel[] = {0x40, 0x00};
  EXPECT_EQ(classify_packet(stun, sizeof stun), PacketClass::stun);
  EXPECT_EQ(classify_packet(dtls, sizeof dtls), PacketClass::dtls);
  EXPECT_EQ(classify_packet(rtp, sizeof rtp), PacketClass::rtp);
  EXPECT_EQ(classify_packet(rtp_marker, sizeof rtp_marker), PacketClass::rtp);
  EXPECT_EQ(classify_packet(rtcp_sr, sizeof rtcp_sr), PacketClass::rtcp);
  EXPECT_EQ(classify_packet(rtcp_psfb, sizeof rtcp_psfb), PacketClass::rtcp);
  EXPECT_EQ(classify_packet(rtcp_low_edge, sizeof rtcp_low_edge), PacketClass::rtcp);
  EXPECT_EQ(classify_packet(rtcp_high_edge, sizeof rtcp_high_edge), PacketClass::rtcp);
  EXPECT_EQ(classify_packet(turn_channel, sizeof turn_channel), PacketClass::unknown);
  EXPECT_EQ(classify_packet(rtp, 1), PacketClass::unknown);
  EXPECT_EQ(classify_packet(rtp, 0), PacketClass::unknown);
}

TEST(RtpPacket, WritesFixedHeaderAndOneByteBlockLikePion) {
  // pion/rtp TestRFC8285OneByteMultipleExtensions: the same elements, re-marshaled with
  // the padding moved to the end.
  const Bytes expected = {0x90, 0xe0, 0x69, 0x8f, 0xd9, 0xc2, 0x93, 0xda, 0x1c, 0x64, 0x27,
                          0x82, 0xBE, 0xDE, 0x00, 0x03, 0x10, 0xAA, 0x21, 0xBB, 0xBB, 0x33,
                          0xCC, 0xCC, 0xCC, 0xCC, 0x00, 0x00};
  uint8_t out[64];
  std::memset(out, 0xFF, sizeof out);
  write_rtp_fixed_header(out, true, 96, 27023, 3653407706u, 476325762u);
  RtpExtensionWriter w(out + 12, sizeof out - 12, false);
  const uint8_t a[] = {0xAA}, b[] = {0xBB, 0xBB}, c[] = {0xCC, 0xCC, 0xCC, 0xCC};
  ASSERT_TRUE(w.add(1, a, 1));
  ASSERT_TRUE(w.add(2, b, 2));
  ASSERT_TRUE(w.add(3, c, 4));
  ASSERT_EQ(w.finish(), 16u);
  rtp_set_extension_bit(out, true);
  EXPECT_EQ(Bytes(out, out + 28), expected);
}

TEST(RtpPacket, WritesTwoByteBlockLikePion) {
  // pion/rtp TestRFC8285TwoByteMultipleExtensionsWithLargeExtension (extension part).
  const Bytes expected = {0x10, 0x00, 0x00, 0x06, 0x01, 0x00, 0x02, 0x01, 0xBB, 0x03, 0x11, 0xCC,
                          0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC,
                          0xCC, 0xCC, 0xCC, 0xCC};
  uint8_t out[64];
  RtpExtensionWriter w(out, sizeof out, true);
  const uint8_t b[] = {0xBB};
  uint8_t c[17];
  std::memset(c, 0xCC, sizeof c);
  ASSERT_TRUE(w.add(1, nullptr, 0));
  ASSERT_TRUE(w.add(2, b, 1));
  ASSERT_TRUE(w.add(3, c, 17));
  ASSERT_EQ(w.finish(), expected.size());
  EXPECT_EQ(Bytes(out, out + expected.size()), expected);
}

TEST(RtpPacket, ExtensionWriterRefusesWhatDoesNotFit) {
  uint8_t out[8];
  RtpExtensionWriter one(out, sizeof out, false);
  uint8_t v[17] = {};
  EXPECT_FALSE(one.add(15, v, 1));   // reserved id
  EXPECT_FALSE(one.add(0, v, 1));    // padding id
  EXPECT_FALSE(one.add(1, v, 0));    // one-byte form cannot say 0 bytes
  EXPECT_FALSE(one.add(1, v, 17));   // nor 17
  EXPECT_TRUE(one.add(1, v, 3));     // 4 + 1 + 3 = 8
  EXPECT_FALSE(one.add(2, v, 1));    // would need 12
  EXPECT_EQ(one.finish(), 8u);
  RtpExtensionWriter empty(out, sizeof out, true);
  EXPECT_EQ(empty.finish(), 0u);
  RtpExtensionWriter tiny(out, 3, true);
  EXPECT_FALSE(tiny.add(1, v, 0));
}

TEST(RtpPacket, RewrittenPacketRoundTrips) {
  uint8_t out[64];
  write_rtp_fixed_header(out, false, 100, 65535, 0xFFFFFFFF, 0xCAFEBABE);
  rtp_set_payload_type(out, 120);
  rtp_set_sequence_number(out, 1);
  rtp_set_timestamp(out, 90000);
  rtp_set_ssrc(out, 42);
  RtpExtensionWriter w(out + 12, sizeof out - 12, false);
  const uint8_t twcc[] = {0x12, 0x34};
  ASSERT_TRUE(w.add(5, twcc, 2));
  const size_t ext_len = w.finish();
  rtp_set_extension_bit(out, true);
  out[12 + ext_len] = 0x77;
  RtpPacketView v;
  ASSERT_TRUE(RtpPacketView::parse(out, 12 + ext_len + 1, v));
  EXPECT_EQ(v.payload_type(), 120);
  EXPECT_EQ(v.sequence_number(), 1);
  EXPECT_EQ(v.timestamp(), 90000u);
  EXPECT_EQ(v.ssrc(), 42u);
  EXPECT_EQ(ext(v, 5), (Bytes{0x12, 0x34}));
  EXPECT_EQ(v.payload_size(), 1u);
  EXPECT_EQ(v.payload()[0], 0x77);
}

}  // namespace
}  // namespace weir::wire
