// RFC 7983's first-byte ranges, and RFC 5761's RTP/RTCP split inside 128..191.
#include "datagram_demux.h"

#include <gtest/gtest.h>

namespace weir::pktgen {
namespace {

DatagramKind kind_of(uint8_t first, uint8_t second = 0x60) {
  const uint8_t d[2] = {first, second};
  return classify_datagram(d, sizeof d);
}

TEST(DatagramDemux, FirstByteRanges) {
  for (int b = 0; b <= 3; ++b) EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::stun) << b;
  for (int b = 4; b <= 19; ++b)
    EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::other) << b;
  for (int b = 20; b <= 63; ++b)
    EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::dtls) << b;
  for (int b = 64; b <= 127; ++b) {
    EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::other) << b;  // TURN, ZRTP, ...
  }
  for (int b = 128; b <= 191; ++b)
    EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::srtp) << b;
  for (int b = 192; b <= 255; ++b)
    EXPECT_EQ(kind_of(static_cast<uint8_t>(b)), DatagramKind::other) << b;
}

TEST(DatagramDemux, RtcpPacketTypesAreSrtcp) {
  EXPECT_EQ(kind_of(0x80, 200), DatagramKind::srtcp);        // SR
  EXPECT_EQ(kind_of(0x81, 201), DatagramKind::srtcp);        // RR
  EXPECT_EQ(kind_of(0x81, 205), DatagramKind::srtcp);        // RTPFB
  EXPECT_EQ(kind_of(0x80, 101), DatagramKind::srtp);         // VP8, PT 101
  EXPECT_EQ(kind_of(0x80, 0x80 | 101), DatagramKind::srtp);  // with the marker bit
}

TEST(DatagramDemux, EmptyIsOther) { EXPECT_EQ(classify_datagram(nullptr, 0), DatagramKind::other); }

}  // namespace
}  // namespace weir::pktgen
