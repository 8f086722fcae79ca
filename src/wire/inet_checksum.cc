#include "wire/inet_checksum.h"

#include <bit>
#include <cstring>

namespace weir::wire {

namespace {

constexpr size_t kUdpChecksumOffset = 6;
constexpr size_t kIpv4ChecksumOffset = 10;

uint16_t fold(uint32_t sum) {
  // Two rounds suffice for any 32-bit value: the first leaves at most 0x1FFFE.
  sum = (sum & 0xFFFF) + (sum >> 16);
  sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

}  // namespace

uint32_t checksum_partial(const uint8_t* data, size_t len, uint32_t sum) noexcept {
  // Eight bytes per step in the machine's byte order: RFC 1071 2(B) shows the ones'
  // complement sum of byte-swapped words is the byte-swapped sum, so one swap at the end
  // gives the big-endian result. A 32-bit half is congruent to the sum of its two 16-bit
  // words modulo 0xFFFF (2^16 = 1 there), and the 64-bit accumulator cannot overflow for
  // any buffer that fits in memory.
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, sizeof w);
    acc += (w & 0xFFFFFFFF) + (w >> 32);
  }
  for (; i + 2 <= len; i += 2) {
    uint16_t w;
    std::memcpy(&w, data + i, sizeof w);
    acc += w;
  }
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  uint16_t words = static_cast<uint16_t>(acc);
  if constexpr (std::endian::native == std::endian::little) {
    words = static_cast<uint16_t>((words << 8) | (words >> 8));
  }
  uint64_t total = uint64_t{sum} + words;
  if (i < len) total += static_cast<uint32_t>(data[i]) << 8;  // odd tail: high byte, zero pad
  // Back to 32 bits, still congruent (2^32 = 1 modulo 0xFFFF).
  while (total >> 32) total = (total & 0xFFFFFFFF) + (total >> 32);
  return static_cast<uint32_t>(total);
}

uint16_t checksum_finish(uint32_t sum) noexcept { return static_cast<uint16_t>(~fold(sum)); }

uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept {
  const uint32_t sum = static_cast<uint32_t>(static_cast<uint16_t>(~checksum)) +
                       static_cast<uint16_t>(~old_word) + new_word;
  return checksum_finish(sum);
}

uint16_t ipv4_header_checksum(const uint8_t* header, size_t header_len) noexcept {
  if (header_len <= kIpv4ChecksumOffset)
    return checksum_finish(checksum_partial(header, header_len));
  uint32_t sum = checksum_partial(header, kIpv4ChecksumOffset);
  if (header_len > kIpv4ChecksumOffset + 2) {
    sum = checksum_partial(header + kIpv4ChecksumOffset + 2, header_len - kIpv4ChecksumOffset - 2,
                           sum);
  }
  return checksum_finish(sum);
}

uint32_t ipv4_pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol,
                                uint16_t l4_len) noexcept {
  return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol + l4_len;
}

uint16_t ipv4_pseudo_header_checksum(uint32_t src, uint32_t dst, uint8_t protocol,
                                     uint16_t l4_len) noexcept {
  return fold(ipv4_pseudo_header_sum(src, dst, protocol, l4_len));
}

uint16_t udp_ipv4_checksum(uint32_t src, uint32_t dst, const uint8_t* udp,
                           size_t udp_len) noexcept {
  uint32_t sum = ipv4_pseudo_header_sum(src, dst, 17, static_cast<uint16_t>(udp_len));
  // Skip the checksum field itself; the piece before it has an even length.
  sum = checksum_partial(udp, udp_len < kUdpChecksumOffset ? udp_len : kUdpChecksumOffset, sum);
  if (udp_len > kUdpChecksumOffset + 2) {
    sum = checksum_partial(udp + kUdpChecksumOffset + 2, udp_len - kUdpChecksumOffset - 2, sum);
  }
  const uint16_t c = checksum_finish(sum);
  return c == 0 ? 0xFFFF : c;
}

uint32_t ipv6_pseudo_header_sum(const std::array<uint8_t, 16>& src,
                                const std::array<uint8_t, 16>& dst, uint8_t next_header,
                                uint32_t l4_len) noexcept {
  uint32_t sum = checksum_partial(src.data(), src.size());
  sum = checksum_partial(dst.data(), dst.size(), sum);
  // Each term is below 2^17 and the partial sum fits in 32 bits; fold once before adding
  // so the total cannot wrap.
  sum = (sum & 0xFFFF) + (sum >> 16);
  return sum + (l4_len >> 16) + (l4_len & 0xFFFF) + next_header;
}

uint16_t ipv6_pseudo_header_checksum(const std::array<uint8_t, 16>& src,
                                     const std::array<uint8_t, 16>& dst, uint8_t next_header,
                                     uint32_t l4_len) noexcept {
  return fold(ipv6_pseudo_header_sum(src, dst, next_header, l4_len));
}

}  // namespace weir::wire
