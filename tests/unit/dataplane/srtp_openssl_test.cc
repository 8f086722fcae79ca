// The OpenSSL SRTP backend against libsrtp2, packet for packet: the same plaintext under
// the same key must give the same bytes, and each side must open what the other sealed.
#include <srtp2/srtp.h>

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "dataplane/srtp_openssl.h"
#include "wire/byte_io.h"
#include "libsrtp_reference.h"

namespace weir::dp {
namespace {

std::vector<uint8_t> make_key(SrtpSuite suite, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> k(srtp_master_length(suite));
  for (auto& b : k) b = static_cast<uint8_t>(rng());
  return k;
}

std::vector<uint8_t> rtp_packet(uint32_t ssrc, uint16_t seq, size_t payload, bool csrc_ext,
                                uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> p = {0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  wire::store_be16(&p[2], seq);
  wire::store_be32(&p[4], seq * 3000u);
  wire::store_be32(&p[8], ssrc);
  if (csrc_ext) {
    p[0] = 0x92;  // X=1, CC=2
    for (int i = 0; i < 8; ++i) p.push_back(static_cast<uint8_t>(rng()));
    const uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00};
    p.insert(p.end(), ext, ext + sizeof ext);
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(rng()));
  return p;
}

const SrtpSuite kSuites[] = {SrtpSuite::aes_cm_128_hmac_sha1_80,
                             SrtpSuite::aes_cm_128_hmac_sha1_32, SrtpSuite::aead_aes_128_gcm};

TEST(OpensslSrtp, RtpMatchesLibsrtpByteForByteAcrossSizesAndWrap) {
  for (SrtpSuite suite : kSuites) {
    SCOPED_TRACE(srtp_suite_name(suite));
    const auto key = make_key(suite, 1);
    auto ours_out = OpensslSrtp::create(suite, false, key, nullptr);
    auto ours_in = OpensslSrtp::create(suite, true, key, nullptr);
    ASSERT_TRUE(ours_out && ours_in);
    Libsrtp lib_out(suite, false, key), lib_in(suite, true, key);
    // Two SSRCs, one starting high so that it wraps (ROC 0 -> 1) during the run.
    for (uint32_t ssrc : {0x11223344u, 0xCAFEBABEu}) {
      const uint16_t first = ssrc == 0x11223344u ? 1 : 65500;
      for (int i = 0; i < 80; ++i) {
        const auto seq = static_cast<uint16_t>(first + i);
        const size_t payload = static_cast<size_t>((i * 37) % 1300);
        const bool csrc_ext = i % 3 == 0;
        const auto plain = rtp_packet(ssrc, seq, payload, csrc_ext, static_cast<uint32_t>(i));
        std::vector<uint8_t> a = plain, b = plain;
        a.resize(plain.size() + 64);
        b.resize(plain.size() + 64);
        size_t alen = plain.size();
        int blen = static_cast<int>(plain.size());
        ASSERT_EQ(ours_out->protect_rtp(a.data(), alen, a.size()), SrtpStatus::ok);
        ASSERT_EQ(srtp_protect(lib_out.session, b.data(), &blen), srtp_err_status_ok);
        ASSERT_EQ(alen, static_cast<size_t>(blen)) << "seq " << seq;
        ASSERT_EQ(0, std::memcmp(a.data(), b.data(), alen)) << "seq " << seq;
        // Cross-open: ours opens libsrtp's, libsrtp opens ours.
        size_t olen = static_cast<size_t>(blen);
        ASSERT_EQ(ours_in->unprotect_rtp(b.data(), olen), SrtpStatus::ok) << "seq " << seq;
        ASSERT_EQ(olen, plain.size());
        EXPECT_EQ(0, std::memcmp(b.data(), plain.data(), olen));
        int llen = static_cast<int>(alen);
        ASSERT_EQ(srtp_unprotect(lib_in.session, a.data(), &llen), srtp_err_status_ok);
        EXPECT_EQ(static_cast<size_t>(llen), plain.size());
      }
    }
  }
}

TEST(OpensslSrtp, RtcpMatchesLibsrtpByteForByte) {
  for (SrtpSuite suite : kSuites) {
    SCOPED_TRACE(srtp_suite_name(suite));
    const auto key = make_key(suite, 2);
    auto ours_out = OpensslSrtp::create(suite, false, key, nullptr);
    auto ours_in = OpensslSrtp::create(suite, true, key, nullptr);
    Libsrtp lib_out(suite, false, key), lib_in(suite, true, key);
    for (int i = 0; i < 20; ++i) {
      // A receiver report with one report block plus an SDES-ish tail of random bytes.
      std::vector<uint8_t> plain = {0x81, 201, 0x00, 0x07, 0xDE, 0xAD, 0xBE, 0xEF};
      for (int k = 0; k < 24; ++k) plain.push_back(static_cast<uint8_t>(i * 7 + k));
      std::vector<uint8_t> a = plain, b = plain;
      a.resize(plain.size() + 64);
      b.resize(plain.size() + 64);
      size_t alen = plain.size();
      int blen = static_cast<int>(plain.size());
      ASSERT_EQ(ours_out->protect_rtcp(a.data(), alen, a.size()), SrtpStatus::ok);
      ASSERT_EQ(srtp_protect_rtcp(lib_out.session, b.data(), &blen), srtp_err_status_ok);
      ASSERT_EQ(alen, static_cast<size_t>(blen));
      ASSERT_EQ(0, std::memcmp(a.data(), b.data(), alen)) << "packet " << i;
      size_t olen = static_cast<size_t>(blen);
      ASSERT_EQ(ours_in->unprotect_rtcp(b.data(), olen), SrtpStatus::ok);
      ASSERT_EQ(olen, plain.size());
      EXPECT_EQ(0, std::memcmp(b.data(), plain.data(), olen));
      int llen = static_cast<int>(alen);
      ASSERT_EQ(srtp_unprotect_rtcp(lib_in.session, a.data(), &llen), srtp_err_status_ok);
    }
  }
}

TEST(OpensslSrtp, RejectsReplaysForgeriesWrongKeysAndTruncation) {
  for (SrtpSuite suite : kSuites) {
    SCOPED_TRACE(srtp_suite_name(suite));
    const auto key = make_key(suite, 3);
    auto out = OpensslSrtp::create(suite, false, key, nullptr);
    auto in = OpensslSrtp::create(suite, true, key, nullptr);
    auto wrong = OpensslSrtp::create(suite, true, make_key(suite, 4), nullptr);
    std::vector<std::vector<uint8_t>> sealed;
    for (uint16_t seq = 1; seq <= 1200; ++seq) {
      auto p = rtp_packet(7, seq, 200, false, seq);
      size_t len = p.size();
      p.resize(len + 64);
      ASSERT_EQ(out->protect_rtp(p.data(), len, p.size()), SrtpStatus::ok);
      p.resize(len);
      sealed.push_back(p);
    }
    // Out of order within the window is fine; each index only once.
    for (size_t i : {5u, 3u, 4u, 1100u, 1000u}) {
      auto p = sealed[i];
      size_t len = p.size();
      ASSERT_EQ(in->unprotect_rtp(p.data(), len), SrtpStatus::ok) << i;
    }
    auto again = sealed[1000];
    size_t len = again.size();
    EXPECT_EQ(in->unprotect_rtp(again.data(), len), SrtpStatus::replay);
    auto old = sealed[3];  // 1,097 behind the highest: outside the 1,024 window
    len = old.size();
    EXPECT_EQ(in->unprotect_rtp(old.data(), len), SrtpStatus::replay);
    auto tampered = sealed[1150];
    tampered[40] ^= 1;
    len = tampered.size();
    EXPECT_EQ(in->unprotect_rtp(tampered.data(), len), SrtpStatus::auth_failed);
    auto other = sealed[1151];
    len = other.size();
    EXPECT_EQ(wrong->unprotect_rtp(other.data(), len), SrtpStatus::auth_failed);
    for (size_t cut = 0; cut < 30; ++cut) {
      auto p = sealed[1160];
      size_t l = cut;
      EXPECT_NE(in->unprotect_rtp(p.data(), l), SrtpStatus::ok) << cut;
      l = cut;
      EXPECT_NE(in->unprotect_rtcp(p.data(), l), SrtpStatus::ok) << cut;
    }
    auto fits = rtp_packet(7, 2000, 100, false, 1);
    size_t flen = fits.size();
    EXPECT_EQ(out->protect_rtp(fits.data(), flen, fits.size() + 1), SrtpStatus::no_space);
  }
}

// A session starts with room for a few SSRCs and is grown by the worker when it adds
// streams; with room for every SSRC in use, each keeps its replay state, while one more
// SSRC than the room makes the least recently used one forgotten (its replay accepted).
TEST(OpensslSrtp, ReservedStreamsKeepReplayStateOfEverySsrc) {
  const SrtpSuite suite = SrtpSuite::aes_cm_128_hmac_sha1_80;
  const auto key = make_key(suite, 5);
  auto out = OpensslSrtp::create(suite, false, key, nullptr);
  ASSERT_TRUE(out);
  auto seal = [&](uint32_t ssrc) {
    auto p = rtp_packet(ssrc, 10, 100, false, ssrc);
    size_t len = p.size();
    p.resize(len + 64);
    EXPECT_EQ(out->protect_rtp(p.data(), len, p.size()), SrtpStatus::ok);
    p.resize(len);
    return p;
  };
  auto open = [](OpensslSrtp& in, std::vector<uint8_t> p) {
    size_t len = p.size();
    return in.unprotect_rtp(p.data(), len);
  };
  const size_t ssrcs = 40;
  std::vector<std::vector<uint8_t>> sealed;
  for (uint32_t i = 0; i < ssrcs; ++i) sealed.push_back(seal(1000 + i));

  auto reserved = OpensslSrtp::create(suite, true, key, nullptr);
  ASSERT_EQ(reserved->stream_capacity(), OpensslSrtp::kInitialStreams);
  reserved->reserve_streams(ssrcs);
  EXPECT_EQ(reserved->stream_capacity(), ssrcs);
  for (const auto& p : sealed) EXPECT_EQ(open(*reserved, p), SrtpStatus::ok);
  for (const auto& p : sealed) EXPECT_EQ(open(*reserved, p), SrtpStatus::replay);
  reserved->reserve_streams(10);  // never shrinks
  EXPECT_EQ(reserved->stream_capacity(), ssrcs);
  reserved->reserve_streams(1000);
  EXPECT_EQ(reserved->stream_capacity(), OpensslSrtp::kMaxStreams);

  auto small = OpensslSrtp::create(suite, true, key, nullptr);
  for (size_t i = 0; i <= OpensslSrtp::kInitialStreams; ++i) {
    EXPECT_EQ(open(*small, sealed[i]), SrtpStatus::ok);
  }
  EXPECT_EQ(small->stream_capacity(), OpensslSrtp::kInitialStreams);
  EXPECT_EQ(open(*small, sealed[0]), SrtpStatus::ok);  // forgotten: seen as a new stream
}

std::vector<uint8_t> hex(const char* h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; h[i] != 0 && h[i + 1] != 0; i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  }
  return out;
}

// RFC 3711 appendix B.3: key derivation test vectors.
TEST(SrtpRfc3711, KeyDerivationVectors) {
  const auto key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const auto salt = hex("0EC675AD498AFEEBB6960B3AABE6");
  uint8_t cipher_key[16], cipher_salt[14], auth_key[20];
  ASSERT_TRUE(srtp_derive_session_key(key, salt, 0x00, cipher_key, sizeof cipher_key));
  ASSERT_TRUE(srtp_derive_session_key(key, salt, 0x02, cipher_salt, sizeof cipher_salt));
  ASSERT_TRUE(srtp_derive_session_key(key, salt, 0x01, auth_key, sizeof auth_key));
  EXPECT_EQ(std::vector<uint8_t>(cipher_key, cipher_key + 16),
            hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(std::vector<uint8_t>(cipher_salt, cipher_salt + 14),
            hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(std::vector<uint8_t>(auth_key, auth_key + 20),
            hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

// RFC 3711 appendix B.2: AES-CM keystream segments for a zero SSRC and index.
TEST(SrtpRfc3711, AesCounterModeKeystream) {
  const auto key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const auto salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  std::vector<uint8_t> stream(16 * 3 + 16 * 0xFF00 + 16 * 3, 0);
  ASSERT_TRUE(srtp_aes_cm_xor(key, salt, 0, 0, stream.data(), stream.size()));
  EXPECT_EQ(std::vector<uint8_t>(stream.begin(), stream.begin() + 48),
            hex("E03EAD0935C95E80E166B16DD92B4EB4"
                "D23513162B02D0F72A43A2FE4A5F97AB"
                "41E95B3BB0A2E8DD477901E4FCA894C0"));
  const size_t tail = 16 * 0xFEFF;  // counter value FEFF
  EXPECT_EQ(std::vector<uint8_t>(stream.begin() + static_cast<long>(tail),
                                 stream.begin() + static_cast<long>(tail) + 48),
            hex("EC8CDF7398607CB0F2D21675EA9EA1E4"
                "362B7C3C6773516318A077D7FC5073AE"
                "6A2CC3787889374FBEB4C81B17BA6C44"));
}

TEST(OpensslSrtp, RefusesMasterKeysOfTheWrongLength) {
  std::string error;
  std::vector<uint8_t> short_key(29, 1);
  EXPECT_EQ(OpensslSrtp::create(SrtpSuite::aes_cm_128_hmac_sha1_80, true, short_key, &error),
            nullptr);
  EXPECT_NE(error.find("30 bytes"), std::string::npos) << error;
  EXPECT_NE(OpensslSrtp::create(SrtpSuite::aead_aes_128_gcm, true, std::vector<uint8_t>(28, 1),
                                &error),
            nullptr);
}

}  // namespace
}  // namespace weir::dp
