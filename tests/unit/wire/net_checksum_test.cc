// The Internet checksum: RFC 1071's and RFC 1624's worked examples, the fast word-at-a-time
// sum against a byte-by-byte reference at every length and alignment, and the pseudo-header
// forms UDP and NIC offload use.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"

namespace weir::wire {
namespace {

// RFC 1071 1 taken literally: 16-bit big-endian words, end-around carry.
uint16_t reference_checksum(const uint8_t* p, size_t len, uint32_t seed = 0) {
  uint64_t sum = seed;
  for (size_t i = 0; i < len; i += 2) {
    sum += static_cast<uint32_t>(p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

TEST(InetChecksum, Rfc1071Example) {
  // RFC 1071 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, folded ddf2; the checksum is
  // its complement, 220d.
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  const uint32_t sum = checksum_partial(bytes, sizeof bytes);
  EXPECT_EQ((sum & 0xFFFF) + (sum >> 16), 0xddf2u);
  EXPECT_EQ(checksum_finish(sum), 0x220d);
  // Split at an even offset, the pieces chain.
  EXPECT_EQ(checksum_finish(checksum_partial(bytes + 4, 4, checksum_partial(bytes, 4))), 0x220d);
  // With the checksum appended, the sum verifies to 0.
  const uint8_t with[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d};
  EXPECT_EQ(checksum_finish(checksum_partial(with, sizeof with)), 0);
}

TEST(InetChecksum, OddLengthPadsTheLastByteWithZero) {
  const uint8_t one[] = {0xAB};
  EXPECT_EQ(checksum_partial(one, 1), 0xAB00u);
  const uint8_t three[] = {0x12, 0x34, 0x56};
  EXPECT_EQ(checksum_partial(three, 3), 0x1234u + 0x5600u);
  EXPECT_EQ(checksum_partial(three, 0, 7), 7u);
  EXPECT_EQ(checksum_finish(0), 0xFFFF);
}

TEST(InetChecksum, FastSumMatchesTheReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<uint8_t> buffer(1600);
  for (uint8_t& b : buffer) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    // Every short length (scalar path and the vector path's start with each tail), and
    // datagram sizes the vector path takes in many steps.
    for (size_t len = 0; len < 1592; len += (len < 300 ? 1 : 97)) {
      ASSERT_EQ(checksum_finish(checksum_partial(buffer.data() + offset, len)),
                reference_checksum(buffer.data() + offset, len))
          << offset << " " << len;
    }
  }
  // All 0xFF (the sum's worst case for carries), long.
  std::vector<uint8_t> ones(65535, 0xFF);
  EXPECT_EQ(checksum_finish(checksum_partial(ones.data(), ones.size())),
            reference_checksum(ones.data(), ones.size()));
  // A seed near the top of 32 bits still folds right.
  EXPECT_EQ(checksum_finish(checksum_partial(ones.data(), 1000, 0xFFFFFFF0u)),
            reference_checksum(ones.data(), 1000, 0xFFFFFFF0u));
}

TEST(InetChecksum, Rfc1624IncrementalUpdate) {
  // RFC 1624 4: HC = 0xDD2F, m 0x5555 -> m' 0x3285. Eqn. 3 gives 0x0000 (eqn. 2's 0xFFFF was
  // the bug the RFC fixes).
  EXPECT_EQ(checksum_update16(0xDD2F, 0x5555, 0x3285), 0x0000);
  // On random data the update equals a full recomputation (0 and 0xFFFF being the same
  // number in ones' complement, and a recomputed 0 impossible here since the data is not
  // all zero).
  std::mt19937 rng(1624);
  for (int round = 0; round < 1000; ++round) {
    std::array<uint8_t, 40> data;
    for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
    data[0] = 0x80;
    const uint16_t before = checksum_finish(checksum_partial(data.data(), data.size()));
    const size_t word = 2 * (1 + rng() % 19);
    const uint16_t old_word = load_be16(data.data() + word);
    const uint16_t new_word = static_cast<uint16_t>(rng());
    store_be16(data.data() + word, new_word);
    const uint16_t after = checksum_finish(checksum_partial(data.data(), data.size()));
    const uint16_t updated = checksum_update16(before, old_word, new_word);
    EXPECT_TRUE(updated == after || (updated ^ after) == 0xFFFF) << round;
  }
}

TEST(InetChecksum, Ipv4HeaderChecksum) {
  // The classic example: 192.168.0.1 -> 192.168.0.199, UDP, total length 0x73, DF, TTL 64;
  // its checksum is b861.
  uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(ipv4_header_checksum(header, sizeof header), 0xb861);
  // The field itself does not count.
  header[10] = 0x12;
  header[11] = 0x34;
  EXPECT_EQ(ipv4_header_checksum(header, sizeof header), 0xb861);
}

TEST(InetChecksum, PseudoHeader) {
  const uint32_t src = 0xC0000201, dst = 0xC0000202;  // 192.0.2.1, 192.0.2.2
  const uint32_t sum = 0xC000u + 0x0201 + 0xC000 + 0x0202 + 17 + 26;
  EXPECT_EQ(ipv4_pseudo_header_sum(src, dst, 17, 26), sum);
  // Folded, not complemented.
  EXPECT_EQ(ipv4_pseudo_header_checksum(src, dst, 17, 26), (sum & 0xFFFF) + (sum >> 16));
  std::array<uint8_t, 16> a{}, b{};
  a[0] = 0x20;
  a[15] = 1;
  b[0] = 0x20;
  b[15] = 2;
  EXPECT_EQ(ipv6_pseudo_header_sum(a, b, 17, 0x12345), 0x2000u + 1 + 0x2000 + 2 + 1 + 0x2345 + 17);
  EXPECT_EQ(ipv6_pseudo_header_checksum(a, b, 58, 8), 0x2000 + 1 + 0x2000 + 2 + 8 + 58);
}

TEST(InetChecksum, UdpOverIpv4AndTheOffloadSeed) {
  const uint32_t src = 0xC0000202, dst = 0xC0000201;
  std::vector<uint8_t> udp = {0x9c, 0x40, 0x13, 0x88, 0x00, 0x0d, 0xAA,
                              0xBB, 'w',  'e',  'i',  'r',  '!'};
  const uint16_t c = udp_ipv4_checksum(src, dst, udp.data(), udp.size());
  // By hand: the pseudo header, then the datagram with its checksum field zeroed.
  std::vector<uint8_t> zeroed = udp;
  zeroed[6] = zeroed[7] = 0;
  EXPECT_EQ(c, reference_checksum(zeroed.data(), zeroed.size(),
                                  ipv4_pseudo_header_sum(src, dst, 17, 13)));
  // What a NIC does with the seed: sum the datagram with the seed in the field, complement.
  store_be16(zeroed.data() + 6, ipv4_pseudo_header_checksum(src, dst, 17, 13));
  EXPECT_EQ(checksum_finish(checksum_partial(zeroed.data(), zeroed.size())), c);
}

TEST(InetChecksum, UdpComputedZeroIsSentAsAllOnes) {
  const uint32_t src = 0x0A000001, dst = 0x0A000002;
  std::vector<uint8_t> udp = {0x12, 0x34, 0x56, 0x78, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00};
  // Choose the last payload word so the data sums to 0xFFFF: the checksum would be 0.
  const uint16_t c = udp_ipv4_checksum(src, dst, udp.data(), udp.size());
  store_be16(udp.data() + 8, c);
  EXPECT_EQ(reference_checksum(udp.data(), udp.size(), ipv4_pseudo_header_sum(src, dst, 17, 10)),
            0);
  EXPECT_EQ(udp_ipv4_checksum(src, dst, udp.data(), udp.size()), 0xFFFF);
}

}  // namespace
}  // namespace weir::wire
