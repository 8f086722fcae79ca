// Transport-wide CC feedback against pion/rtcp vectors (several captured from Chrome) and
// the chunk examples of draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "wire/rtcp_transport_layer_cc.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using Statuses = std::vector<TransportCcPacketStatus>;

struct Parsed {
  bool ok = false;
  TransportCcFeedback fb;
  Statuses statuses;
};

Parsed parse(const Bytes& b, size_t room = 1024) {
  Parsed p;
  std::vector<TransportCcPacketStatus> out(room);
  size_t count = 0;
  p.ok = parse_rtcp_transport_cc(b.data(), b.size(), p.fb, out, count);
  if (p.ok) p.statuses.assign(out.begin(), out.begin() + count);
  return p;
}

// Builds statuses from symbols (0 not received, 1 small, 2 large) and the deltas of the
// received ones, in order.
Statuses statuses(uint16_t base, std::vector<int> symbols, std::vector<int32_t> deltas) {
  Statuses s;
  size_t d = 0;
  for (size_t i = 0; i < symbols.size(); ++i) {
    TransportCcPacketStatus st;
    st.sequence = static_cast<uint16_t>(base + i);
    st.received = symbols[i] != 0;
    st.delta_us = st.received ? deltas.at(d++) : 0;
    s.push_back(st);
  }
  return s;
}

Bytes write(const TransportCcFeedback& fb, const Statuses& s) {
  uint8_t out[1500];
  const size_t n = write_rtcp_transport_cc(out, sizeof out, fb, s);
  return Bytes(out, out + n);
}

// pion example1: run-length chunk, one small delta, one padding byte.
const Bytes kExample1 = {0xaf, 0xcd, 0x00, 0x05, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x03, 0x2f, 0xa0,
                         0x00, 0x99, 0x00, 0x01, 0x3d, 0xe8, 0x02, 0x17, 0x20, 0x01, 0x94, 0x01};
// pion example4: run-length of 7 small deltas, three padding bytes.
const Bytes kExample4 = {0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8,
                         0xbb, 0x00, 0x04, 0x00, 0x07, 0x10, 0x63, 0x6e, 0x01, 0x20, 0x07,
                         0x4c, 0x24, 0x24, 0x10, 0x0c, 0x0c, 0x10, 0x00, 0x00, 0x03};
// pion marshal example5: a 1-bit status vector of 14.
const Bytes kExample5 = {0xaf, 0xcd, 0x00, 0x06, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d,
                         0xd8, 0xbb, 0x00, 0x01, 0x00, 0x0e, 0x10, 0x63, 0x6d, 0x00,
                         0xba, 0x00, 0x10, 0x0c, 0x0c, 0x10, 0x00, 0x02};
// pion marshal example6: a 1-bit status vector covering 12 packets.
const Bytes kExample6 = {0xaf, 0xcd, 0x00, 0x07, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x03, 0x2f,
                         0xa0, 0x9c, 0x14, 0x00, 0x0c, 0x75, 0x84, 0x20, 0x00, 0xbe, 0xc0,
                         0xc1, 0x3f, 0x3b, 0x3f, 0x53, 0x90, 0x3b, 0x00, 0x00, 0x03};
// pion unmarshal example6 (Chrome): a 2-bit vector with a large delta, then a run-length
// chunk longer than the status count.
const Bytes kChrome = {0xaf, 0xcd, 0x00, 0x07, 0x9b, 0x74, 0xf6, 0x1f, 0x93, 0x71, 0xdc,
                       0xbc, 0x85, 0x3c, 0x00, 0x09, 0x63, 0xf9, 0x16, 0xb3, 0xd5, 0x52,
                       0x00, 0x30, 0x9b, 0xaa, 0x6a, 0xaa, 0x7b, 0x01, 0x09, 0x01};

TEST(RtcpTransportCc, RunLengthSmallDelta) {
  const Parsed p = parse(kExample1);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fb, (TransportCcFeedback{4195875351u, 1124282272u, 153, 1, 4057090, 23}));
  EXPECT_EQ(p.statuses, statuses(153, {1}, {37000}));
  EXPECT_EQ(write(p.fb, p.statuses), kExample1);
}

TEST(RtcpTransportCc, RunLengthOfSeven) {
  const Parsed p = parse(kExample4);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fb, (TransportCcFeedback{4195875351u, 423483579u, 4, 7, 1074030, 1}));
  EXPECT_EQ(p.statuses, statuses(4, {1, 1, 1, 1, 1, 1, 1},
                                 {19000, 9000, 9000, 4000, 3000, 3000, 4000}));
  EXPECT_EQ(write(p.fb, p.statuses), kExample4);
}

TEST(RtcpTransportCc, OneBitVectors) {
  Parsed p = parse(kExample5);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.statuses, statuses(1, {1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                                 {4000, 3000, 3000, 4000}));
  EXPECT_EQ(write(p.fb, p.statuses), kExample5);

  p = parse(kExample6);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fb, (TransportCcFeedback{4195875351u, 1124282272u, 39956, 12, 7701536, 0}));
  EXPECT_EQ(p.statuses, statuses(39956, {1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0},
                                 {48250, 15750, 14750, 15750, 20750, 36000, 14750}));
  EXPECT_EQ(write(p.fb, p.statuses), kExample6);
}

TEST(RtcpTransportCc, TwoBitVectorLargeDeltaAndOverlongRun) {
  const Parsed p = parse(kChrome);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fb, (TransportCcFeedback{2608133663u, 2473712828u, 34108, 9, 6551830, 179}));
  EXPECT_EQ(p.statuses, statuses(34108, {1, 1, 1, 1, 1, 0, 2, 0, 0},
                                 {38750, 42500, 26500, 42500, 30750, 66250}));
  // Our writer encodes the same packets its own way; they must parse back the same.
  const Parsed again = parse(write(p.fb, p.statuses));
  ASSERT_TRUE(again.ok);
  EXPECT_EQ(again.fb, p.fb);
  EXPECT_EQ(again.statuses, p.statuses);
}

TEST(RtcpTransportCc, DraftChunkExamples) {
  // 3.1.3 example 1: run-length chunk 0x00DD, 221 packets not received.
  TransportCcFeedback fb{1, 2, 1000, 0, 0, 0};
  const Statuses lost = statuses(1000, std::vector<int>(221, 0), {});
  Bytes b = write(fb, lost);
  ASSERT_EQ(b.size(), 24u);
  EXPECT_EQ(b[20], 0x00);
  EXPECT_EQ(b[21], 0xDD);
  EXPECT_EQ(b[23], 2);  // two padding bytes
  Parsed p = parse(b);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.statuses, lost);

  // 3.1.4 example 1: 1-bit status vector 0x9F1C.
  const Statuses v1 = statuses(7, {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0},
                               {250, 500, 750, 1000, 1250, 1500, 1750, 2000});
  b = write(fb = {1, 2, 7, 0, 0, 0}, v1);
  EXPECT_EQ(b[20], 0x9F);
  EXPECT_EQ(b[21], 0x1C);
  p = parse(b);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.statuses, v1);
}

TEST(RtcpTransportCc, LargeAndNegativeDeltasRoundTrip) {
  // -8192 ms and +8191.75 ms are the 16-bit extremes (pion RecvDelta vectors).
  const Statuses s = statuses(65530, {2, 1, 2, 0, 2, 1, 1, 2},
                              {-8192000, 63750, 8191750, -250, 0, 250, 64000});
  const TransportCcFeedback fb{10, 20, 65530, 0, 0xABCDEF, 255};
  const Bytes b = write(fb, s);
  ASSERT_FALSE(b.empty());
  const Parsed p = parse(b);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.fb.reference_time, 0xABCDEFu);
  EXPECT_EQ(p.fb.status_count, 8);
  EXPECT_EQ(p.statuses.back().sequence, 1);  // wrapped past 65535
  // 64000 us is 256 ticks: one past the small range, so it goes out large.
  Statuses expect = s;
  EXPECT_EQ(p.statuses, expect);
  // Out of the 16-bit tick range: refused.
  EXPECT_TRUE(write(fb, statuses(65530, {2}, {-8192250})).empty());
  // Sequence gaps are the caller's bug, not something to encode.
  Statuses gap = s;
  gap[3].sequence = 7;
  EXPECT_TRUE(write(fb, gap).empty());
}

TEST(RtcpTransportCc, TruncatedAndReservedAreRejected) {
  // pion example8: three small deltas announced, one present.
  const Bytes missing_deltas = {0xaf, 0xcd, 0x00, 0x05, 0xfa, 0x17, 0xfa, 0x17,
                                0x43, 0x03, 0x2f, 0xa0, 0x00, 0x99, 0x00, 0x03,
                                0x3d, 0xe8, 0x02, 0x17, 0x20, 0x03, 0x94, 0x01};
  EXPECT_FALSE(parse(missing_deltas).ok);
  // pion example9: two large deltas announced, one byte present.
  const Bytes missing_large = {0xaf, 0xcd, 0x00, 0x05, 0xfa, 0x17, 0xfa, 0x17,
                               0x43, 0x03, 0x2f, 0xa0, 0x00, 0x99, 0x00, 0x02,
                               0x3d, 0xe8, 0x02, 0x17, 0x40, 0x02, 0x94, 0x01};
  EXPECT_FALSE(parse(missing_large).ok);
  // Run-length chunk with the reserved symbol 11.
  Bytes reserved = kExample1;
  reserved[20] = 0x60;
  EXPECT_FALSE(parse(reserved).ok);
  // Caller's array too small for the status count.
  EXPECT_FALSE(parse(kExample4, 6).ok);
  EXPECT_TRUE(parse(kExample4, 7).ok);
}

TEST(RtcpTransportCc, EveryTruncationFailsOrStaysInBounds) {
  for (const Bytes* full : {&kExample1, &kExample4, &kExample6, &kChrome}) {
    for (size_t n = 0; n <= full->size(); ++n) {
      std::unique_ptr<uint8_t[]> copy(new uint8_t[n == 0 ? 1 : n]);
      if (n > 0) std::memcpy(copy.get(), full->data(), n);
      TransportCcFeedback fb;
      TransportCcPacketStatus out[64];
      size_t count = 0;
      // The header announces the full length, so only the whole packet parses.
      EXPECT_EQ(parse_rtcp_transport_cc(copy.get(), n, fb, out, count), n == full->size());
    }
  }
}

TEST(RtcpTransportCc, WriterRespectsCapacity) {
  const Statuses s = statuses(4, {1, 1, 1, 1, 1, 1, 1}, {19000, 9000, 9000, 4000, 3000, 3000, 4000});
  const TransportCcFeedback fb{4195875351u, 423483579u, 4, 7, 1074030, 1};
  uint8_t out[32];
  EXPECT_EQ(write_rtcp_transport_cc(out, 32, fb, s), 32u);
  EXPECT_EQ(write_rtcp_transport_cc(out, 31, fb, s), 0u);
  EXPECT_EQ(write_rtcp_transport_cc(out, 20, fb, s), 0u);
}

}  // namespace
}  // namespace weir::wire
