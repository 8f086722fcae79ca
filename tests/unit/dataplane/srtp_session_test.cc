// SrtpSession against libsrtp's published validation vectors, against itself across
// independent sessions, and against hostile input.
#include "dataplane/srtp_session.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace weir::dp {
namespace {

using Bytes = std::vector<uint8_t>;
using Dir = SrtpSession::Direction;

constexpr std::array<SrtpSuite, 3> kAllSuites{SrtpSuite::aes_cm_128_hmac_sha1_80,
                                              SrtpSuite::aes_cm_128_hmac_sha1_32,
                                              SrtpSuite::aead_aes_128_gcm};

// Vectors from libsrtp's test/srtp_driver.c (srtp_validate, srtp_validate_gcm): the
// default policy's master key+salt and an RTP and an RTCP packet of SSRC 0xcafebabe.
const Bytes kDriverKeyAesCm = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
    0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
const Bytes kDriverKeyGcm = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                             0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xa0, 0xa1, 0xa2, 0xa3,
                             0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};
const Bytes kRtpPlain = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                         0xba, 0xbe, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                         0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
const Bytes kRtcpPlain = {0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe,
                          0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                          0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
const Bytes kSrtpAesCm80 = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe,
                            0xba, 0xbe, 0x4e, 0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8,
                            0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d, 0x24, 0x02, 0xb7, 0x8d,
                            0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb};
const Bytes kSrtcpAesCm80 = {0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28,
                             0x03, 0x5b, 0xe4, 0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41,
                             0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00, 0x00, 0x01, 0x99, 0x3e,
                             0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98};
const Bytes kSrtpGcm = {0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba,
                        0xbe, 0xc5, 0x00, 0x2e, 0xde, 0x04, 0xcf, 0xdd, 0x2e, 0xb9, 0x11,
                        0x59, 0xe0, 0x88, 0x0a, 0xa0, 0x6e, 0xd2, 0x97, 0x68, 0x26, 0xf7,
                        0x96, 0xb2, 0x01, 0xdf, 0x31, 0x31, 0xa1, 0x27, 0xe8, 0xa3, 0x92};
const Bytes kSrtcpGcm = {0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xc9, 0x8b, 0x8b,
                         0x5d, 0xf0, 0x39, 0x2a, 0x55, 0x85, 0x2b, 0x6c, 0x21, 0xac, 0x8e,
                         0x70, 0x25, 0xc5, 0x2c, 0x6f, 0xbe, 0xa2, 0xb3, 0xb4, 0x46, 0xea,
                         0x31, 0x12, 0x3b, 0xa8, 0x8c, 0xe6, 0x1e, 0x80, 0x00, 0x00, 0x01};

Bytes key_for(SrtpSuite suite, uint8_t seed) {
  Bytes k(srtp_master_length(suite));
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(seed * 31 + i * 7 + 1);
  return k;
}

std::unique_ptr<SrtpSession> make(SrtpSuite suite, Dir dir, const Bytes& key) {
  std::string error;
  auto s = SrtpSession::create(suite, dir, key, &error);
  EXPECT_NE(s, nullptr) << error;
  return s;
}

// Deterministic filler so that every size has distinct, non-constant payload bytes.
uint8_t filler(uint32_t seed, size_t i) {
  uint32_t x = seed * 2654435761u + static_cast<uint32_t>(i) * 40503u;
  x ^= x >> 13;
  return static_cast<uint8_t>(x);
}

Bytes rtp_packet(uint32_t ssrc, uint16_t seq, size_t payload, uint32_t seed = 1) {
  Bytes p(12 + payload);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  p[4] = 0, p[5] = 0, p[6] = 0x10, p[7] = static_cast<uint8_t>(seq);
  p[8] = static_cast<uint8_t>(ssrc >> 24);
  p[9] = static_cast<uint8_t>(ssrc >> 16);
  p[10] = static_cast<uint8_t>(ssrc >> 8);
  p[11] = static_cast<uint8_t>(ssrc);
  for (size_t i = 0; i < payload; ++i) p[12 + i] = filler(seed + seq, i);
  return p;
}

// A receiver report header followed by arbitrary bytes: SRTCP does not parse the body.
Bytes rtcp_packet(uint32_t ssrc, size_t body, uint32_t seed = 1) {
  Bytes p(8 + body);
  p[0] = 0x80;
  p[1] = 201;
  const size_t words = (p.size() + 3) / 4 - 1;
  p[2] = static_cast<uint8_t>(words >> 8);
  p[3] = static_cast<uint8_t>(words);
  p[4] = static_cast<uint8_t>(ssrc >> 24);
  p[5] = static_cast<uint8_t>(ssrc >> 16);
  p[6] = static_cast<uint8_t>(ssrc >> 8);
  p[7] = static_cast<uint8_t>(ssrc);
  for (size_t i = 0; i < body; ++i) p[8 + i] = filler(seed, i);
  return p;
}

// Protects into a buffer with exactly kMaxTrailer of room; returns the SRTP bytes.
Bytes protect_rtp(SrtpSession& s, const Bytes& plain) {
  Bytes buf(plain.size() + SrtpSession::kMaxTrailer);
  std::memcpy(buf.data(), plain.data(), plain.size());
  size_t len = plain.size();
  EXPECT_EQ(s.protect_rtp(buf.data(), len, buf.size()), SrtpStatus::ok);
  buf.resize(len);
  return buf;
}

Bytes protect_rtcp(SrtpSession& s, const Bytes& plain) {
  Bytes buf(plain.size() + SrtpSession::kMaxTrailer);
  std::memcpy(buf.data(), plain.data(), plain.size());
  size_t len = plain.size();
  EXPECT_EQ(s.protect_rtcp(buf.data(), len, buf.size()), SrtpStatus::ok);
  buf.resize(len);
  return buf;
}

// Unprotects a copy; on success *out holds the plaintext.
SrtpStatus unprotect_rtp(SrtpSession& s, Bytes pkt, Bytes* out = nullptr) {
  size_t len = pkt.size();
  const SrtpStatus st = s.unprotect_rtp(pkt.data(), len);
  if (st == SrtpStatus::ok && out) *out = Bytes(pkt.begin(), pkt.begin() + len);
  return st;
}

SrtpStatus unprotect_rtcp(SrtpSession& s, Bytes pkt, Bytes* out = nullptr) {
  size_t len = pkt.size();
  const SrtpStatus st = s.unprotect_rtcp(pkt.data(), len);
  if (st == SrtpStatus::ok && out) *out = Bytes(pkt.begin(), pkt.begin() + len);
  return st;
}

class EverySuite : public ::testing::TestWithParam<SrtpSuite> {};

INSTANTIATE_TEST_SUITE_P(Srtp, EverySuite, ::testing::ValuesIn(kAllSuites),
                         [](const auto& param_info) {
                           return std::string(srtp_suite_name(param_info.param));
                         });

TEST(SrtpNames, SdpNamesRoundTrip) {
  for (SrtpSuite s : kAllSuites) {
    auto parsed = srtp_suite_from_name(srtp_suite_name(s));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(srtp_suite_from_name("AES_CM_128_HMAC_SHA1_80"), SrtpSuite::aes_cm_128_hmac_sha1_80);
  EXPECT_EQ(srtp_suite_from_name("AES_CM_128_HMAC_SHA1_32"), SrtpSuite::aes_cm_128_hmac_sha1_32);
  EXPECT_EQ(srtp_suite_from_name("AEAD_AES_128_GCM"), SrtpSuite::aead_aes_128_gcm);
  EXPECT_FALSE(srtp_suite_from_name("SRTP_AEAD_AES_128_GCM"));
  EXPECT_FALSE(srtp_suite_from_name("SRTP_AES128_CM_SHA1_80"));
  EXPECT_FALSE(srtp_suite_from_name("aes_cm_128_hmac_sha1_80"));
  EXPECT_FALSE(srtp_suite_from_name("AEAD_AES_256_GCM"));
  EXPECT_FALSE(srtp_suite_from_name(""));
  EXPECT_EQ(srtp_master_length(SrtpSuite::aes_cm_128_hmac_sha1_80), 30u);
  EXPECT_EQ(srtp_master_length(SrtpSuite::aes_cm_128_hmac_sha1_32), 30u);
  EXPECT_EQ(srtp_master_length(SrtpSuite::aead_aes_128_gcm), 28u);
  EXPECT_STREQ(srtp_status_name(SrtpStatus::auth_failed), "auth_failed");
  EXPECT_STREQ(srtp_status_name(SrtpStatus::replay), "replay");
}

TEST_P(EverySuite, CreateRejectsWrongKeyLength) {
  const SrtpSuite suite = GetParam();
  for (size_t n : {size_t{0}, srtp_master_length(suite) - 1, srtp_master_length(suite) + 1}) {
    std::string error;
    Bytes key(n, 0x11);
    EXPECT_EQ(SrtpSession::create(suite, Dir::outbound, key, &error), nullptr) << n;
    EXPECT_FALSE(error.empty());
  }
}

TEST(SrtpVectors, AesCm80MatchesLibsrtpDriver) {
  auto tx = make(SrtpSuite::aes_cm_128_hmac_sha1_80, Dir::outbound, kDriverKeyAesCm);
  auto rx = make(SrtpSuite::aes_cm_128_hmac_sha1_80, Dir::inbound, kDriverKeyAesCm);
  ASSERT_TRUE(tx && rx);
  EXPECT_EQ(protect_rtp(*tx, kRtpPlain), kSrtpAesCm80);
  EXPECT_EQ(protect_rtcp(*tx, kRtcpPlain), kSrtcpAesCm80);
  Bytes out;
  ASSERT_EQ(unprotect_rtp(*rx, kSrtpAesCm80, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtpPlain);
  ASSERT_EQ(unprotect_rtcp(*rx, kSrtcpAesCm80, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtcpPlain);
}

// The _32 suite derives the same keys and HMAC as _80 and truncates the RTP tag to its
// first 4 bytes; SRTCP is identical to _80 (80-bit tag), so the driver vectors apply.
TEST(SrtpVectors, AesCm32IsTheTruncatedAesCm80Tag) {
  auto tx = make(SrtpSuite::aes_cm_128_hmac_sha1_32, Dir::outbound, kDriverKeyAesCm);
  auto rx = make(SrtpSuite::aes_cm_128_hmac_sha1_32, Dir::inbound, kDriverKeyAesCm);
  ASSERT_TRUE(tx && rx);
  const Bytes expected(kSrtpAesCm80.begin(), kSrtpAesCm80.begin() + 28 + 4);
  EXPECT_EQ(protect_rtp(*tx, kRtpPlain), expected);
  EXPECT_EQ(protect_rtcp(*tx, kRtcpPlain), kSrtcpAesCm80);
  Bytes out;
  ASSERT_EQ(unprotect_rtp(*rx, expected, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtpPlain);
  ASSERT_EQ(unprotect_rtcp(*rx, kSrtcpAesCm80, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtcpPlain);
}

TEST(SrtpVectors, AeadAes128GcmMatchesLibsrtpDriver) {
  auto tx = make(SrtpSuite::aead_aes_128_gcm, Dir::outbound, kDriverKeyGcm);
  auto rx = make(SrtpSuite::aead_aes_128_gcm, Dir::inbound, kDriverKeyGcm);
  ASSERT_TRUE(tx && rx);
  EXPECT_EQ(protect_rtp(*tx, kRtpPlain), kSrtpGcm);
  EXPECT_EQ(protect_rtcp(*tx, kRtcpPlain), kSrtcpGcm);
  Bytes out;
  ASSERT_EQ(unprotect_rtp(*rx, kSrtpGcm, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtpPlain);
  ASSERT_EQ(unprotect_rtcp(*rx, kSrtcpGcm, &out), SrtpStatus::ok);
  EXPECT_EQ(out, kRtcpPlain);
}

TEST_P(EverySuite, IndependentSessionsAgreeForEveryPayloadSize) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 3);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  for (size_t payload = 0; payload <= 1400; ++payload) {
    const auto seq = static_cast<uint16_t>(100 + payload);
    const Bytes plain = rtp_packet(0x01020304, seq, payload);
    const Bytes srtp = protect_rtp(*tx, plain);
    ASSERT_EQ(srtp.size(), plain.size() + srtp_rtp_trailer_length(suite)) << payload;
    // Header in the clear, payload encrypted.
    ASSERT_TRUE(std::equal(plain.begin(), plain.begin() + 12, srtp.begin()));
    if (payload >= 8) {
      ASSERT_FALSE(std::equal(plain.begin() + 12, plain.end(), srtp.begin() + 12)) << payload;
    }
    Bytes out;
    ASSERT_EQ(unprotect_rtp(*rx, srtp, &out), SrtpStatus::ok) << payload;
    ASSERT_EQ(out, plain) << payload;
  }
}

TEST_P(EverySuite, IndependentSessionsAgreeOnRtcpForEveryBodySize) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 4);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  for (size_t body = 0; body <= 1400; ++body) {
    const Bytes plain = rtcp_packet(0x0a0b0c0d, body, static_cast<uint32_t>(body));
    const Bytes srtcp = protect_rtcp(*tx, plain);
    ASSERT_EQ(srtcp.size(), plain.size() + srtp_rtcp_trailer_length(suite)) << body;
    Bytes out;
    ASSERT_EQ(unprotect_rtcp(*rx, srtcp, &out), SrtpStatus::ok) << body;
    ASSERT_EQ(out, plain) << body;
  }
}

TEST_P(EverySuite, ManySsrcsThroughOneSessionPair) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 5);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  constexpr std::array<uint32_t, 5> ssrcs{0x11111111, 0x22222222, 0xdeadbeef, 1, 0xffffffff};
  // Each SSRC starts at a different sequence number and wraps at a different moment.
  for (uint16_t i = 0; i < 200; ++i) {
    for (size_t k = 0; k < ssrcs.size(); ++k) {
      const auto seq = static_cast<uint16_t>(65500 + k * 20 + i);
      const Bytes plain = rtp_packet(ssrcs[k], seq, 100 + k * 50, static_cast<uint32_t>(k));
      Bytes out;
      ASSERT_EQ(unprotect_rtp(*rx, protect_rtp(*tx, plain), &out), SrtpStatus::ok) << k << " " << i;
      ASSERT_EQ(out, plain);
      const Bytes rtcp = rtcp_packet(ssrcs[k], 20 + i % 7 * 4, i);
      ASSERT_EQ(unprotect_rtcp(*rx, protect_rtcp(*tx, rtcp), &out), SrtpStatus::ok);
      ASSERT_EQ(out, rtcp);
    }
  }
}

TEST_P(EverySuite, SameSsrcSameSeqDiffersAcrossKeys) {
  const SrtpSuite suite = GetParam();
  auto a = make(suite, Dir::outbound, key_for(suite, 1));
  auto b = make(suite, Dir::outbound, key_for(suite, 2));
  ASSERT_TRUE(a && b);
  const Bytes plain = rtp_packet(42, 7, 64);
  EXPECT_NE(protect_rtp(*a, plain), protect_rtp(*b, plain));
}

TEST_P(EverySuite, WrongKeyFailsAuthentication) {
  const SrtpSuite suite = GetParam();
  auto tx = make(suite, Dir::outbound, key_for(suite, 6));
  auto rx = make(suite, Dir::inbound, key_for(suite, 7));
  ASSERT_TRUE(tx && rx);
  EXPECT_EQ(unprotect_rtp(*rx, protect_rtp(*tx, rtp_packet(9, 1, 160))), SrtpStatus::auth_failed);
  EXPECT_EQ(unprotect_rtcp(*rx, protect_rtcp(*tx, rtcp_packet(9, 24))), SrtpStatus::auth_failed);
  // Only the salt differs: still a different key.
  Bytes salt_key = key_for(suite, 6);
  salt_key.back() ^= 1;
  auto rx2 = make(suite, Dir::inbound, salt_key);
  ASSERT_TRUE(rx2);
  EXPECT_EQ(unprotect_rtp(*rx2, protect_rtp(*tx, rtp_packet(9, 2, 160))), SrtpStatus::auth_failed);
}

TEST_P(EverySuite, AnyFlippedBitFailsAuthentication) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 8);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  const Bytes srtp = protect_rtp(*tx, rtp_packet(77, 1000, 40));
  // Every bit except the RTP version bits (a different version is rejected before auth).
  for (size_t byte = 0; byte < srtp.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      if (byte == 0 && bit >= 6) continue;
      Bytes bad = srtp;
      bad[byte] ^= static_cast<uint8_t>(1u << bit);
      const SrtpStatus st = unprotect_rtp(*rx, bad);
      // Flipping the CSRC count or the X bit makes the header longer than the packet, or
      // flipping the sequence number may put it far behind: rejected, not authenticated.
      ASSERT_NE(st, SrtpStatus::ok) << byte << ":" << bit;
      if (byte >= 12) {
        ASSERT_EQ(st, SrtpStatus::auth_failed) << byte << ":" << bit;
      }
    }
  }
  // The untouched packet still authenticates: failures left no state behind.
  EXPECT_EQ(unprotect_rtp(*rx, srtp), SrtpStatus::ok);

  const Bytes srtcp = protect_rtcp(*tx, rtcp_packet(77, 32));
  for (size_t byte = 0; byte < srtcp.size(); ++byte) {
    Bytes bad = srtcp;
    bad[byte] ^= 0x10;
    ASSERT_EQ(unprotect_rtcp(*rx, bad), SrtpStatus::auth_failed) << byte;
  }
  EXPECT_EQ(unprotect_rtcp(*rx, srtcp), SrtpStatus::ok);
}

TEST_P(EverySuite, ReplayedPacketIsRejected) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 9);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  const Bytes srtp = protect_rtp(*tx, rtp_packet(5, 500, 100));
  EXPECT_EQ(unprotect_rtp(*rx, srtp), SrtpStatus::ok);
  EXPECT_EQ(unprotect_rtp(*rx, srtp), SrtpStatus::replay);
  const Bytes srtcp = protect_rtcp(*tx, rtcp_packet(5, 16));
  EXPECT_EQ(unprotect_rtcp(*rx, srtcp), SrtpStatus::ok);
  EXPECT_EQ(unprotect_rtcp(*rx, srtcp), SrtpStatus::replay);
}

TEST_P(EverySuite, ReplayWindowIs1024Packets) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 10);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  const Bytes very_old = protect_rtp(*tx, rtp_packet(6, 1000, 50));
  const Bytes late = protect_rtp(*tx, rtp_packet(6, 2500, 50));
  const Bytes newest = protect_rtp(*tx, rtp_packet(6, 3000, 50));
  EXPECT_EQ(unprotect_rtp(*rx, newest), SrtpStatus::ok);
  EXPECT_EQ(unprotect_rtp(*rx, late), SrtpStatus::ok);  // 500 behind: inside the window
  EXPECT_EQ(unprotect_rtp(*rx, very_old), SrtpStatus::replay);  // 2000 behind
}

TEST_P(EverySuite, TruncatedPacketsAreRejectedWithoutCrashing) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 11);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  const Bytes srtp = protect_rtp(*tx, rtp_packet(3, 10, 120));
  const Bytes srtcp = protect_rtcp(*tx, rtcp_packet(3, 40));
  for (size_t n = 0; n < srtp.size(); ++n) {
    // An exact-size heap copy, so that ASan sees any read past the end.
    Bytes cut(srtp.begin(), srtp.begin() + static_cast<std::ptrdiff_t>(n));
    const SrtpStatus st = unprotect_rtp(*rx, cut);
    ASSERT_TRUE(st == SrtpStatus::bad_packet || st == SrtpStatus::auth_failed)
        << n << " " << srtp_status_name(st);
  }
  for (size_t n = 0; n < srtcp.size(); ++n) {
    Bytes cut(srtcp.begin(), srtcp.begin() + static_cast<std::ptrdiff_t>(n));
    const SrtpStatus st = unprotect_rtcp(*rx, cut);
    ASSERT_TRUE(st == SrtpStatus::bad_packet || st == SrtpStatus::auth_failed)
        << n << " " << srtp_status_name(st);
  }
  EXPECT_EQ(unprotect_rtp(*rx, Bytes(12, 0)), SrtpStatus::bad_packet);
  EXPECT_EQ(unprotect_rtp(*rx, srtp), SrtpStatus::ok);
  EXPECT_EQ(unprotect_rtcp(*rx, srtcp), SrtpStatus::ok);
}

TEST_P(EverySuite, GarbageIsRejectedWithoutCrashing) {
  const SrtpSuite suite = GetParam();
  auto rx = make(suite, Dir::inbound, key_for(suite, 12));
  ASSERT_TRUE(rx);
  for (uint32_t seed = 0; seed < 300; ++seed) {
    Bytes junk(seed % 90);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = filler(seed, i);
    if (!junk.empty()) junk[0] = static_cast<uint8_t>(0x80 | (junk[0] & 0x3f));
    EXPECT_NE(unprotect_rtp(*rx, junk), SrtpStatus::ok) << seed;
    EXPECT_NE(unprotect_rtcp(*rx, junk), SrtpStatus::ok) << seed;
  }
}

TEST_P(EverySuite, ProtectRefusesWhenTheTrailerDoesNotFit) {
  const SrtpSuite suite = GetParam();
  auto tx = make(suite, Dir::outbound, key_for(suite, 13));
  ASSERT_TRUE(tx);
  const Bytes plain = rtp_packet(8, 1, 200);
  const size_t trailer = srtp_rtp_trailer_length(suite);
  Bytes buf(plain.size() + SrtpSession::kMaxTrailer);
  std::memcpy(buf.data(), plain.data(), plain.size());
  size_t len = plain.size();
  EXPECT_EQ(tx->protect_rtp(buf.data(), len, plain.size() + trailer - 1), SrtpStatus::no_space);
  EXPECT_EQ(len, plain.size());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));  // untouched
  EXPECT_EQ(tx->protect_rtp(buf.data(), len, plain.size() + trailer), SrtpStatus::ok);
  EXPECT_EQ(len, plain.size() + trailer);

  const Bytes rtcp = rtcp_packet(8, 40);
  const size_t rtcp_trailer = srtp_rtcp_trailer_length(suite);
  std::memcpy(buf.data(), rtcp.data(), rtcp.size());
  len = rtcp.size();
  EXPECT_EQ(tx->protect_rtcp(buf.data(), len, rtcp.size() + rtcp_trailer - 1),
            SrtpStatus::no_space);
  EXPECT_EQ(len, rtcp.size());
  EXPECT_EQ(tx->protect_rtcp(buf.data(), len, rtcp.size() + rtcp_trailer), SrtpStatus::ok);
  EXPECT_EQ(len, rtcp.size() + rtcp_trailer);
}

TEST(SrtpTrailers, TagLengthsPerSuite) {
  EXPECT_EQ(srtp_rtp_trailer_length(SrtpSuite::aes_cm_128_hmac_sha1_80), 10u);
  EXPECT_EQ(srtp_rtp_trailer_length(SrtpSuite::aes_cm_128_hmac_sha1_32), 4u);
  EXPECT_EQ(srtp_rtp_trailer_length(SrtpSuite::aead_aes_128_gcm), 16u);
  for (SrtpSuite suite : kAllSuites) {
    auto tx = make(suite, Dir::outbound, key_for(suite, 14));
    ASSERT_TRUE(tx);
    const Bytes rtp = rtp_packet(1, 1, 100);
    EXPECT_EQ(protect_rtp(*tx, rtp).size(), rtp.size() + srtp_rtp_trailer_length(suite));
    const Bytes rtcp = rtcp_packet(1, 20);
    const Bytes srtcp = protect_rtcp(*tx, rtcp);
    ASSERT_EQ(srtcp.size(), rtcp.size() + srtp_rtcp_trailer_length(suite));
    // Where the E flag and SRTCP index 1 sit tells the tag's size and place.
    const Bytes index = {0x80, 0x00, 0x00, 0x01};
    if (suite == SrtpSuite::aead_aes_128_gcm) {
      // RFC 7714: ciphertext || 16-byte tag || E+index.
      EXPECT_TRUE(std::equal(index.begin(), index.end(), srtcp.end() - 4));
    } else {
      // RFC 3711: ciphertext || E+index || 10-byte tag, for _32 too.
      EXPECT_TRUE(std::equal(index.begin(), index.end(), srtcp.begin() + 28));
      EXPECT_EQ(srtcp.size() - 28 - 4, 10u);
    }
  }
}

TEST_P(EverySuite, RetransmissionWithTheSameSequenceNumber) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 15);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  const Bytes p5 = rtp_packet(21, 5, 300);
  const Bytes first = protect_rtp(*tx, p5);   // lost on the way
  const Bytes p6 = protect_rtp(*tx, rtp_packet(21, 6, 300));
  const Bytes again = protect_rtp(*tx, p5);   // NACKed, sent again
  EXPECT_EQ(again, first);
  Bytes out;
  EXPECT_EQ(unprotect_rtp(*rx, p6), SrtpStatus::ok);
  ASSERT_EQ(unprotect_rtp(*rx, again, &out), SrtpStatus::ok);
  EXPECT_EQ(out, p5);
}

TEST_P(EverySuite, DirectionIsEnforced) {
  const SrtpSuite suite = GetParam();
  const Bytes key = key_for(suite, 16);
  auto tx = make(suite, Dir::outbound, key);
  auto rx = make(suite, Dir::inbound, key);
  ASSERT_TRUE(tx && rx);
  EXPECT_EQ(tx->direction(), Dir::outbound);
  EXPECT_EQ(rx->suite(), suite);
  Bytes buf = rtp_packet(1, 1, 50);
  const Bytes copy = buf;
  buf.resize(buf.size() + SrtpSession::kMaxTrailer);
  size_t len = copy.size();
  EXPECT_EQ(rx->protect_rtp(buf.data(), len, buf.size()), SrtpStatus::other);
  EXPECT_EQ(len, copy.size());
  EXPECT_EQ(unprotect_rtp(*tx, protect_rtp(*tx, rtp_packet(1, 2, 50))), SrtpStatus::other);
}

TEST(SrtpMeasure, ProtectCostIsMeasuredForEverySuite) {
  for (SrtpSuite suite : kAllSuites) {
    EXPECT_GT(measure_protect_ns(suite, 1100, 200), 0.0) << srtp_suite_name(suite);
  }
  EXPECT_LT(measure_protect_ns(SrtpSuite::aead_aes_128_gcm, 1100, 0), 0.0);
}

}  // namespace
}  // namespace weir::dp
