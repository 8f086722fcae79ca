// Compound RTCP walking and validation: every length field is checked against the datagram.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "rtcp_test_vectors.h"
#include "wire/rtcp_compound.h"
#include "wire/rtcp_header.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;

struct Seen {
  uint8_t type;
  uint8_t count;
  size_t offset;
  size_t size;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> walk(const Bytes& b, bool& ok) {
  std::vector<Seen> seen;
  ok = for_each_rtcp_packet(b.data(), b.size(),
                            [&](uint8_t type, uint8_t count, const uint8_t* p, size_t len) {
                              seen.push_back({type, count, static_cast<size_t>(p - b.data()), len});
                            });
  return seen;
}

TEST(RtcpCompound, WalksARealCompound) {
  const Bytes b = testing::real_compound();
  EXPECT_TRUE(validate_rtcp_compound(b.data(), b.size()));
  bool ok = false;
  const auto seen = walk(b, ok);
  ASSERT_TRUE(ok);
  const std::vector<Seen> expected = {{201, 1, 0, 32},  {202, 1, 32, 52}, {203, 1, 84, 8},
                                      {206, 1, 92, 12}, {205, 5, 104, 12}, {204, 0, 116, 16}};
  EXPECT_EQ(seen, expected);

  RtcpCompoundView view;
  ASSERT_TRUE(RtcpCompoundView::parse(b.data(), b.size(), view));
  EXPECT_EQ(view.packet_count(), 6u);
  size_t n = 0;
  for (const RtcpPacket& p : view) {
    EXPECT_EQ(p.data, b.data() + expected[n].offset);
    EXPECT_EQ(p.header.type, expected[n].type);
    ++n;
  }
  EXPECT_EQ(n, 6u);
}

TEST(RtcpCompound, ReducedSizeRtcpNeedNotStartWithAReport) {
  const Bytes pli = {0x81, 0xce, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e};
  EXPECT_TRUE(validate_rtcp_compound(pli.data(), pli.size()));
}

TEST(RtcpCompound, ALyingLengthRejectsTheWholeCompound) {
  const Bytes good = testing::real_compound();
  const size_t length_fields[] = {2, 34, 86, 94, 106, 118};
  for (size_t at : length_fields) {
    for (int delta : {-1, +1}) {
      Bytes bad = good;
      bad[at + 1] = static_cast<uint8_t>(bad[at + 1] + delta);
      bool ok = true;
      const auto seen = walk(bad, ok);
      EXPECT_FALSE(ok) << "length at " << at << " off by " << delta;
      EXPECT_TRUE(seen.empty()) << "no packet may be handed out of a rejected compound";
      EXPECT_FALSE(validate_rtcp_compound(bad.data(), bad.size()));
    }
  }
  // pion/rtcp TestInvalidHeaderLength: RR claiming 404 bytes in a 4-byte datagram.
  const Bytes lying = {0x81, 0xc9, 0x00, 0x64};
  EXPECT_FALSE(validate_rtcp_compound(lying.data(), lying.size()));
}

TEST(RtcpCompound, RejectsBadVersionTypeAndPadding) {
  Bytes b = testing::real_compound();
  b[84] = 0x41;  // BYE with version 1
  EXPECT_FALSE(validate_rtcp_compound(b.data(), b.size()));
  b = testing::real_compound();
  b[85] = 0x60;  // RTP payload type where a packet type belongs
  EXPECT_FALSE(validate_rtcp_compound(b.data(), b.size()));
  // Padding bit with count 0, and with a count larger than the body.
  Bytes padded = {0xa0, 0xcb, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04};
  EXPECT_TRUE(validate_rtcp_compound(padded.data(), padded.size()));
  padded[7] = 0;
  EXPECT_FALSE(validate_rtcp_compound(padded.data(), padded.size()));
  padded[7] = 5;
  EXPECT_FALSE(validate_rtcp_compound(padded.data(), padded.size()));
  EXPECT_FALSE(validate_rtcp_compound(nullptr, 0));
  EXPECT_FALSE(validate_rtcp_compound(padded.data(), 0));
}

TEST(RtcpCompound, EveryTruncationIsRejectedUnlessOnAPacketBoundary) {
  const Bytes full = testing::real_compound();
  const std::set<size_t> boundaries = {32, 84, 92, 104, 116, 132};
  for (size_t n = 0; n <= full.size(); ++n) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[n == 0 ? 1 : n]);
    if (n > 0) std::memcpy(copy.get(), full.data(), n);
    EXPECT_EQ(validate_rtcp_compound(copy.get(), n), boundaries.count(n) == 1) << "prefix " << n;
  }
}

TEST(RtcpCompound, HeaderRoundTrip) {
  uint8_t out[8] = {};
  write_rtcp_header(out, true, 15, kRtcpTypeTransportFeedback, 8);
  out[7] = 2;
  RtcpHeader h;
  ASSERT_TRUE(parse_rtcp_header(out, sizeof out, h));
  EXPECT_TRUE(h.padding);
  EXPECT_EQ(h.count, 15);
  EXPECT_EQ(h.type, kRtcpTypeTransportFeedback);
  EXPECT_EQ(h.size, 8u);
  EXPECT_EQ(h.padding_size, 2u);
  EXPECT_EQ(h.body_size(), 2u);
  EXPECT_EQ(out[0], 0xaf);
  EXPECT_EQ(out[3], 1);
}

}  // namespace
}  // namespace weir::wire
