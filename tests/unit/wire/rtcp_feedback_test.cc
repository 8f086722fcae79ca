// NACK, PLI, FIR and REMB against pion/rtcp vectors (Chrome captures where noted).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rtcp_test_vectors.h"
#include "wire/rtcp_full_intra_request.h"
#include "wire/rtcp_picture_loss_indication.h"
#include "wire/rtcp_receiver_estimated_max_bitrate.h"
#include "wire/rtcp_transport_layer_nack.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using Seqs = std::vector<uint16_t>;

// pion/rtcp transport_layer_nack_test.go "valid".
const Bytes kNack = {0x81, 0xcd, 0x00, 0x03, 0x90, 0x2f, 0x9e, 0x2e,
                     0x90, 0x2f, 0x9e, 0x2e, 0xaa, 0xaa, 0x55, 0x55};

Seqs lost_of(const NackPair& pair) {
  uint8_t out[16];
  const size_t n = write_rtcp_transport_layer_nack(out, sizeof out, 1, 2, {&pair, 1});
  RtcpTransportLayerNackView v;
  if (n == 0 || !RtcpTransportLayerNackView::parse(out, n, v)) return {};
  uint16_t seqs[17];
  const size_t count = v.lost_sequence_numbers(seqs);
  return Seqs(seqs, seqs + count);
}

TEST(RtcpNack, ParsesPionVectorAndExpandsPidBlp) {
  RtcpTransportLayerNackView v;
  ASSERT_TRUE(RtcpTransportLayerNackView::parse(kNack.data(), kNack.size(), v));
  EXPECT_EQ(v.sender_ssrc(), 0x902f9e2eu);
  EXPECT_EQ(v.media_ssrc(), 0x902f9e2eu);
  ASSERT_EQ(v.pair_count(), 1u);
  EXPECT_EQ(v.pair(0), (NackPair{0xaaaa, 0x5555}));
  uint16_t seqs[17];
  const size_t n = v.lost_sequence_numbers(seqs);
  // BLP 0x5555 sets bits 0, 2, ..., 14: PID+1, PID+3, ..., PID+15.
  EXPECT_EQ(Seqs(seqs, seqs + n), (Seqs{0xaaaa, 0xaaab, 0xaaad, 0xaaaf, 0xaab1, 0xaab3, 0xaab5,
                                        0xaab7, 0xaab9}));
  uint16_t small[3];
  EXPECT_EQ(v.lost_sequence_numbers(small), 0u);

  uint8_t out[32];
  const NackPair pair{0xaaaa, 0x5555};
  const size_t written = write_rtcp_transport_layer_nack(out, sizeof out, 0x902f9e2e, 0x902f9e2e, {&pair, 1});
  EXPECT_EQ(Bytes(out, out + written), kNack);
}

TEST(RtcpNack, PairExpansionLikePion) {
  EXPECT_EQ(lost_of({42, 0}), (Seqs{42}));
  EXPECT_EQ(lost_of({42, 1}), (Seqs{42, 43}));
  EXPECT_EQ(lost_of({42, 2}), (Seqs{42, 44}));
  EXPECT_EQ(lost_of({42, 3}), (Seqs{42, 43, 44}));
  EXPECT_EQ(lost_of({42, 0x8000}), (Seqs{42, 58}));
  EXPECT_EQ(lost_of({65535, 1}), (Seqs{65535, 0}));  // wraps
}

TEST(RtcpNack, PairsFromSequenceNumbersLikePion) {
  NackPair out[4];
  const uint16_t one_pair[] = {100, 101, 105, 115};
  ASSERT_EQ(nack_pairs_from_sequence_numbers(one_pair, out), 1u);
  EXPECT_EQ(out[0], (NackPair{100, 0x4011}));
  const uint16_t three_pairs[] = {100, 117, 500, 501, 502};
  ASSERT_EQ(nack_pairs_from_sequence_numbers(three_pairs, out), 3u);
  EXPECT_EQ(out[0], (NackPair{100, 0}));
  EXPECT_EQ(out[1], (NackPair{117, 0}));
  EXPECT_EQ(out[2], (NackPair{500, 3}));
  EXPECT_EQ(nack_pairs_from_sequence_numbers(three_pairs, std::span<NackPair>(out, 2)), 0u);
}

TEST(RtcpNack, RoundTripAndRejects) {
  const NackPair pairs[] = {{1, 0xAA}, {1034, 0x05}};
  uint8_t out[32];
  const size_t n = write_rtcp_transport_layer_nack(out, sizeof out, 0x902f9e2e, 0x902f9e2e, pairs);
  ASSERT_EQ(n, 20u);
  RtcpTransportLayerNackView v;
  ASSERT_TRUE(RtcpTransportLayerNackView::parse(out, n, v));
  ASSERT_EQ(v.pair_count(), 2u);
  EXPECT_EQ(v.pair(0), pairs[0]);
  EXPECT_EQ(v.pair(1), pairs[1]);
  // pion "short report": header says 12 bytes, 8 present.
  const Bytes short_report = {0x81, 0xcd, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e};
  EXPECT_FALSE(RtcpTransportLayerNackView::parse(short_report.data(), short_report.size(), v));
  // No FCI at all.
  const Bytes no_fci = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
  EXPECT_FALSE(RtcpTransportLayerNackView::parse(no_fci.data(), no_fci.size(), v));
  const Bytes compound = testing::real_compound();  // its RTPFB is FMT 5, not a NACK
  EXPECT_FALSE(RtcpTransportLayerNackView::parse(compound.data() + 104, 12, v));
  EXPECT_EQ(write_rtcp_transport_layer_nack(out, 19, 1, 2, pairs), 0u);
}

TEST(RtcpPli, ParsesAndWritesTheRealCompoundsPli) {
  const Bytes compound = testing::real_compound();
  const Bytes pli(compound.begin() + 92, compound.begin() + 104);
  RtcpPictureLossIndicationView v;
  ASSERT_TRUE(RtcpPictureLossIndicationView::parse(pli.data(), pli.size(), v));
  EXPECT_EQ(v.sender_ssrc(), 0x902f9e2eu);
  EXPECT_EQ(v.media_ssrc(), 0x902f9e2eu);
  uint8_t out[12];
  ASSERT_EQ(write_rtcp_picture_loss_indication(out, sizeof out, 0x902f9e2e, 0x902f9e2e), 12u);
  EXPECT_EQ(Bytes(out, out + 12), pli);
  EXPECT_EQ(write_rtcp_picture_loss_indication(out, 11, 1, 2), 0u);
  Bytes fir_fmt = pli;
  fir_fmt[0] = 0x84;
  EXPECT_FALSE(RtcpPictureLossIndicationView::parse(fir_fmt.data(), fir_fmt.size(), v));
}

TEST(RtcpFir, ParsesPionVectorsAndRoundTrips) {
  // pion/rtcp full_intra_request_test.go "also valid".
  const Bytes fir = {0x84, 0xce, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x4b, 0xc4, 0xfc, 0xb4,
                     0x12, 0x34, 0x56, 0x78, 0x42, 0x00, 0x00, 0x00, 0x98, 0x76, 0x54, 0x32,
                     0x57, 0x00, 0x00, 0x00};
  RtcpFullIntraRequestView v;
  ASSERT_TRUE(RtcpFullIntraRequestView::parse(fir.data(), fir.size(), v));
  EXPECT_EQ(v.sender_ssrc(), 0u);
  EXPECT_EQ(v.media_ssrc(), 0x4bc4fcb4u);
  ASSERT_EQ(v.entry_count(), 2u);
  EXPECT_EQ(v.entry(0), (FirEntry{0x12345678, 0x42}));
  EXPECT_EQ(v.entry(1), (FirEntry{0x98765432, 0x57}));

  // pion "wrong length": 16 bytes leave half an FCI entry.
  const Bytes half = {0x84, 0xce, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
                      0x4b, 0xc4, 0xfc, 0xb4, 0x12, 0x34, 0x56, 0x78};
  EXPECT_FALSE(RtcpFullIntraRequestView::parse(half.data(), half.size(), v));

  const FirEntry entries[] = {{3, 42}, {0xdeadbeef, 255}};
  uint8_t out[64];
  const size_t n = write_rtcp_full_intra_request(out, sizeof out, 5000, entries);
  ASSERT_EQ(n, 28u);
  ASSERT_TRUE(RtcpFullIntraRequestView::parse(out, n, v));
  EXPECT_EQ(v.sender_ssrc(), 5000u);
  EXPECT_EQ(v.media_ssrc(), 0u);
  EXPECT_EQ(v.entry(0), entries[0]);
  EXPECT_EQ(v.entry(1), entries[1]);
}

// pion/rtcp receiver_estimated_maximum_bitrate_test.go: sent by Chrome watching a
// 6 Mb/s stream. 26 >> 2 = exponent 6; mantissa 0x220DF = 139487; 139487 << 6 = 8927168.
const Bytes kRemb = {143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66,
                     1, 26, 32, 223, 72, 116, 237, 22};

TEST(RtcpRemb, ExponentAndMantissaFromChrome) {
  RtcpReceiverEstimatedMaxBitrateView v;
  ASSERT_TRUE(RtcpReceiverEstimatedMaxBitrateView::parse(kRemb.data(), kRemb.size(), v));
  EXPECT_EQ(v.sender_ssrc(), 1u);
  EXPECT_EQ(v.bitrate_bps(), 8927168u);
  ASSERT_EQ(v.ssrc_count(), 1);
  EXPECT_EQ(v.ssrc(0), 1215622422u);

  uint8_t out[64];
  const uint32_t ssrc = 1215622422;
  size_t n = write_rtcp_receiver_estimated_max_bitrate(out, sizeof out, 1, 8927168, {&ssrc, 1});
  EXPECT_EQ(Bytes(out, out + n), kRemb);
  // One less does not fit 18 bits at exponent 6 exactly: the low bits are dropped.
  n = write_rtcp_receiver_estimated_max_bitrate(out, sizeof out, 1, 8927167, {&ssrc, 1});
  ASSERT_TRUE(RtcpReceiverEstimatedMaxBitrateView::parse(out, n, v));
  EXPECT_EQ(v.bitrate_bps(), 8927104u);
}

TEST(RtcpRemb, SaturatesAndRejectsBadIdentifiers) {
  // pion's overflow vector: exponent 63, mantissa 0x3FFFF.
  const Bytes max = {143, 206, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 82, 69, 77, 66, 0, 255, 255, 255};
  RtcpReceiverEstimatedMaxBitrateView v;
  ASSERT_TRUE(RtcpReceiverEstimatedMaxBitrateView::parse(max.data(), max.size(), v));
  EXPECT_EQ(v.bitrate_bps(), UINT64_MAX);
  uint8_t out[64];
  size_t n = write_rtcp_receiver_estimated_max_bitrate(out, sizeof out, 0, 0, {});
  ASSERT_EQ(n, 20u);
  ASSERT_TRUE(RtcpReceiverEstimatedMaxBitrateView::parse(out, n, v));
  EXPECT_EQ(v.bitrate_bps(), 0u);
  n = write_rtcp_receiver_estimated_max_bitrate(out, sizeof out, 0, 1ull << 40, {});
  ASSERT_TRUE(RtcpReceiverEstimatedMaxBitrateView::parse(out, n, v));
  EXPECT_EQ(v.bitrate_bps(), 1ull << 40);

  Bytes not_remb = kRemb;
  not_remb[15] = 'X';
  EXPECT_FALSE(RtcpReceiverEstimatedMaxBitrateView::parse(not_remb.data(), not_remb.size(), v));
  Bytes too_many = kRemb;
  too_many[16] = 2;  // two SSRCs announced, one present
  EXPECT_FALSE(RtcpReceiverEstimatedMaxBitrateView::parse(too_many.data(), too_many.size(), v));
}

}  // namespace
}  // namespace weir::wire
