// SR, RR, SDES and BYE: parse real vectors (pion/rtcp tests), write them back byte-exact.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rtcp_test_vectors.h"
#include "wire/rtcp_bye.h"
#include "wire/rtcp_receiver_report.h"
#include "wire/rtcp_sdes.h"
#include "wire/rtcp_sender_report.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;

// pion/rtcp sender_report_test.go "valid", with the length field corrected from 7 to 12
// words: the vector is 52 bytes (pion's parser does not check the field).
const Bytes kSenderReport = {0x81, 0xc8, 0x00, 0x0c, 0x90, 0x2f, 0x9e, 0x2e, 0xda, 0x8b, 0xd1,
                             0xfc, 0xdd, 0xdd, 0xa0, 0x5a, 0xaa, 0xf4, 0xed, 0xd5, 0x00, 0x00,
                             0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xbc, 0x5e, 0x9a, 0x40, 0x00,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0xe1, 0x00, 0x00, 0x01, 0x11,
                             0x09, 0xf3, 0x64, 0x32, 0x00, 0x02, 0x4a, 0x79};

const RtcpReceptionReport kPionReport{0xbc5e9a40, 0, 0, 0x46e1, 273, 0x9f36432, 150137};

TEST(RtcpSenderReport, ParsesAndWritesPionVector) {
  RtcpSenderReportView sr;
  ASSERT_TRUE(RtcpSenderReportView::parse(kSenderReport.data(), kSenderReport.size(), sr));
  const RtcpSenderInfo info = sr.sender_info();
  EXPECT_EQ(info.ssrc, 0x902f9e2eu);
  EXPECT_EQ(info.ntp_timestamp, 0xda8bd1fcdddda05aull);
  EXPECT_EQ(info.rtp_timestamp, 0xaaf4edd5u);
  EXPECT_EQ(info.packet_count, 1u);
  EXPECT_EQ(info.octet_count, 2u);
  ASSERT_EQ(sr.report_count(), 1);
  EXPECT_EQ(sr.report(0), kPionReport);
  EXPECT_EQ(sr.profile_extension_size(), 0u);

  uint8_t out[64];
  const size_t n = write_rtcp_sender_report(out, sizeof out, info, {&kPionReport, 1});
  EXPECT_EQ(Bytes(out, out + n), kSenderReport);
  EXPECT_EQ(write_rtcp_sender_report(out, kSenderReport.size() - 1, info, {&kPionReport, 1}), 0u);
}

TEST(RtcpSenderReport, RejectsWrongTypeAndCountBeyondLength) {
  RtcpSenderReportView sr;
  Bytes b = kSenderReport;
  b[1] = 0xc9;  // RR
  EXPECT_FALSE(RtcpSenderReportView::parse(b.data(), b.size(), sr));
  b = kSenderReport;
  b[0] = 0x82;  // pion "bad count in header": two reports in room for one
  EXPECT_FALSE(RtcpSenderReportView::parse(b.data(), b.size(), sr));
}

TEST(RtcpSenderReport, RoundTripWithTwoReportsAndNegativeLoss) {
  const RtcpSenderInfo info{1, 999, 555, 32, 11};
  const RtcpReceptionReport reports[] = {{2, 2, 3, 4, 5, 6, 7}, {999, 30, -12345, 99, 22, 92, 46}};
  uint8_t out[128];
  const size_t n = write_rtcp_sender_report(out, sizeof out, info, reports);
  ASSERT_EQ(n, 28u + 48u);
  RtcpSenderReportView sr;
  ASSERT_TRUE(RtcpSenderReportView::parse(out, n, sr));
  EXPECT_EQ(sr.sender_info(), info);
  ASSERT_EQ(sr.report_count(), 2);
  EXPECT_EQ(sr.report(0), reports[0]);
  EXPECT_EQ(sr.report(1), reports[1]);
}

TEST(RtcpReceiverReport, ParsesAndWritesTheRealCompoundsReport) {
  const Bytes compound = testing::real_compound();
  const Bytes rr_bytes(compound.begin(), compound.begin() + 32);
  RtcpReceiverReportView rr;
  ASSERT_TRUE(RtcpReceiverReportView::parse(compound.data(), compound.size(), rr));
  EXPECT_EQ(rr.ssrc(), 0x902f9e2eu);
  ASSERT_EQ(rr.report_count(), 1);
  EXPECT_EQ(rr.report(0), kPionReport);
  EXPECT_EQ(rr.profile_extension_size(), 0u);

  uint8_t out[64];
  const size_t n = write_rtcp_receiver_report(out, sizeof out, 0x902f9e2e, {&kPionReport, 1});
  EXPECT_EQ(Bytes(out, out + n), rr_bytes);
}

TEST(RtcpReceiverReport, EmptyReportAndTooManyBlocks) {
  uint8_t out[1024];
  const size_t n = write_rtcp_receiver_report(out, sizeof out, 7, {});
  EXPECT_EQ(Bytes(out, out + n), (Bytes{0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07}));
  std::vector<RtcpReceptionReport> many(32);
  EXPECT_EQ(write_rtcp_receiver_report(out, sizeof out, 7, many), 0u);
}

TEST(RtcpSdes, ParsesTheRealCname) {
  const Bytes compound = testing::real_compound();
  RtcpSdesView sdes;
  ASSERT_TRUE(RtcpSdesView::parse(compound.data() + 32, compound.size() - 32, sdes));
  uint32_t ssrc = 0;
  std::string_view cname;
  ASSERT_TRUE(sdes.first_cname(ssrc, cname));
  EXPECT_EQ(ssrc, 0x902f9e2eu);
  EXPECT_EQ(cname, "{9c00eb92-1afb-9d49-a47d-91f64eee69f5}");

  uint8_t out[64];
  const size_t n = write_rtcp_sdes_cname(out, sizeof out, ssrc, cname);
  EXPECT_EQ(Bytes(out, out + n), Bytes(compound.begin() + 32, compound.begin() + 84));
}

TEST(RtcpSdes, TwoChunksAndMalformedItems) {
  // pion/rtcp "two chunks", with the length field made to match the 24 bytes.
  const Bytes two = {0x82, 0xca, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x01, 0x01, 0x41, 0x00,
                     0x05, 0x06, 0x07, 0x08, 0x01, 0x03, 0x42, 0x43, 0x44, 0x00, 0x00, 0x00};
  RtcpSdesView sdes;
  ASSERT_TRUE(RtcpSdesView::parse(two.data(), two.size(), sdes));
  EXPECT_EQ(sdes.chunk_count(), 2);
  std::vector<std::pair<uint32_t, std::string>> items;
  sdes.for_each_item([&](uint32_t ssrc, uint8_t type, std::string_view text) {
    EXPECT_EQ(type, kSdesCname);
    items.emplace_back(ssrc, std::string(text));
  });
  const std::vector<std::pair<uint32_t, std::string>> expected = {{0x01020304, "A"}, {0x05060708, "BCD"}};
  EXPECT_EQ(items, expected);

  // pion "no end": an item but no END octet before the packet ends.
  const Bytes no_end = {0x81, 0xca, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x41, 0x42};
  EXPECT_FALSE(RtcpSdesView::parse(no_end.data(), no_end.size(), sdes));
  // An item length running past the packet.
  const Bytes long_item = {0x81, 0xca, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x09, 0x41, 0x00};
  EXPECT_FALSE(RtcpSdesView::parse(long_item.data(), long_item.size(), sdes));
  // Two chunks announced, one present.
  Bytes short_count = two;
  short_count[0] = 0x83;
  EXPECT_FALSE(RtcpSdesView::parse(short_count.data(), short_count.size(), sdes));
}

TEST(RtcpSdes, RoundTripSeveralItems) {
  const RtcpSdesItem first[] = {{kSdesCname, "test@example.com"}};
  const RtcpSdesItem second[] = {{kSdesNote, "some note"}, {kSdesNote, "another note"}};
  const RtcpSdesChunk chunks[] = {{1, first}, {2, second}};
  uint8_t out[128];
  const size_t n = write_rtcp_sdes(out, sizeof out, chunks);
  ASSERT_GT(n, 0u);
  ASSERT_EQ(n % 4, 0u);
  RtcpSdesView sdes;
  ASSERT_TRUE(RtcpSdesView::parse(out, n, sdes));
  std::vector<std::string> texts;
  sdes.for_each_item([&](uint32_t, uint8_t, std::string_view text) { texts.emplace_back(text); });
  EXPECT_EQ(texts, (std::vector<std::string>{"test@example.com", "some note", "another note"}));
  EXPECT_EQ(write_rtcp_sdes(out, n - 1, chunks), 0u);
  const RtcpSdesItem end_item[] = {{kSdesEnd, "x"}};
  const RtcpSdesChunk bad[] = {{1, end_item}};
  EXPECT_EQ(write_rtcp_sdes(out, sizeof out, bad), 0u);
}

TEST(RtcpBye, ParsesReasonAndWritesBack) {
  // pion/rtcp goodbye_test.go "valid", length field made to match the 12 bytes.
  const Bytes bye = {0x81, 0xcb, 0x00, 0x02, 0x90, 0x2f, 0x9e, 0x2e, 0x03, 0x46, 0x4f, 0x4f};
  RtcpByeView v;
  ASSERT_TRUE(RtcpByeView::parse(bye.data(), bye.size(), v));
  ASSERT_EQ(v.source_count(), 1);
  EXPECT_EQ(v.source(0), 0x902f9e2eu);
  EXPECT_EQ(v.reason(), "FOO");
  uint8_t out[32];
  const uint32_t src = 0x902f9e2e;
  const size_t n = write_rtcp_bye(out, sizeof out, {&src, 1}, "FOO");
  EXPECT_EQ(Bytes(out, out + n), bye);

  Bytes lying = bye;
  lying[8] = 4;  // pion "invalid octet count"
  EXPECT_FALSE(RtcpByeView::parse(lying.data(), lying.size(), v));
  Bytes too_many = bye;
  too_many[0] = 0x84;  // four sources announced, room for two words
  EXPECT_FALSE(RtcpByeView::parse(too_many.data(), too_many.size(), v));
}

TEST(RtcpBye, RealCompoundByeAndRoundTrip) {
  const Bytes compound = testing::real_compound();
  RtcpByeView v;
  ASSERT_TRUE(RtcpByeView::parse(compound.data() + 84, 8, v));
  EXPECT_EQ(v.source_count(), 1);
  EXPECT_TRUE(v.reason().empty());
  const uint32_t sources[] = {0x01020304, 0x05060708};
  uint8_t out[32];
  const size_t n = write_rtcp_bye(out, sizeof out, sources, "because");
  ASSERT_EQ(n, 4u + 8u + 8u);
  ASSERT_TRUE(RtcpByeView::parse(out, n, v));
  EXPECT_EQ(v.source(1), 0x05060708u);
  EXPECT_EQ(v.reason(), "because");
  EXPECT_EQ(write_rtcp_bye(out, sizeof out, sources, std::string(256, 'x')), 0u);
}

}  // namespace
}  // namespace weir::wire
