// The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum
// of 16-bit big-endian words, and the IPv4 header / pseudo-header forms UDP and ICMP use.
// Pure functions on bytes; nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weir::wire {

// Adds data's 16-bit big-endian words to sum and returns the (unfolded) result. An odd
// length counts the last byte as the high byte of a word padded with zero, so when chaining
// calls every piece but the last must have an even length.
uint32_t checksum_partial(const uint8_t* data, size_t len, uint32_t sum = 0) noexcept;

// Folds the carries of a partial sum into 16 bits and complements it: the value to store
// (with store_be16) in a checksum field. Over data that includes a correct checksum field
// the result is 0, which is how receivers verify.
uint16_t checksum_finish(uint32_t sum) noexcept;

// A stored checksum updated for one 16-bit word of the covered data changing from old_word
// to new_word, without reading the rest (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). Words in
// host order as load_be16 reads them.
uint16_t checksum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept;

// The header checksum of an IPv4 header of header_len bytes, its checksum field (bytes
// 10..11) counted as 0.
uint16_t ipv4_header_checksum(const uint8_t* header, size_t header_len) noexcept;

// The IPv4 pseudo header of UDP/TCP (RFC 768): source, destination, zero, protocol, L4
// length. Addresses in host byte order. The sum is not folded.
uint32_t ipv4_pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol,
                                uint16_t l4_len) noexcept;

// The pseudo-header sum folded to 16 bits and NOT complemented: the seed a NIC's L4
// checksum offload expects in the checksum field (what DPDK's rte_ipv4_phdr_cksum returns).
uint16_t ipv4_pseudo_header_checksum(uint32_t src, uint32_t dst, uint8_t protocol,
                                     uint16_t l4_len) noexcept;

// The full checksum of a UDP datagram of udp_len bytes (header included, its checksum
// field counted as 0) over IPv4. A computed 0 is returned as 0xFFFF: 0 on the wire means
// "no checksum" (RFC 768).
uint16_t udp_ipv4_checksum(uint32_t src, uint32_t dst, const uint8_t* udp, size_t udp_len) noexcept;

// The IPv6 pseudo header (RFC 8200 8.1): source, destination, 32-bit upper-layer length,
// three zero bytes, next header. Unfolded.
uint32_t ipv6_pseudo_header_sum(const std::array<uint8_t, 16>& src,
                                const std::array<uint8_t, 16>& dst, uint8_t next_header,
                                uint32_t l4_len) noexcept;

// Folded, not complemented: the offload seed, as ipv4_pseudo_header_checksum (DPDK's
// rte_ipv6_phdr_cksum).
uint16_t ipv6_pseudo_header_checksum(const std::array<uint8_t, 16>& src,
                                     const std::array<uint8_t, 16>& dst, uint8_t next_header,
                                     uint32_t l4_len) noexcept;

}  // namespace weir::wire
