// IPv6 (RFC 8200) as the userspace network stack handles it: the fixed header, the L4
// checksum over the IPv6 pseudo header, addresses, and the ICMPv6 messages a host must
// answer, echo (RFC 4443) and neighbor discovery's solicitation and advertisement
// (RFC 4861). Extension headers are not walked: the worker drops such packets. Nothing here
// allocates except the to_string function.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/ethernet_frame.h"
#include "wire/icmp_message.h"
#include "wire/ipv4_packet.h"  // the protocol numbers (kIpProtoUdp, kIpProtoIcmpv6), shared

namespace weir::wire {

constexpr size_t kIpv6HeaderSize = 40;
using Ipv6Address = std::array<uint8_t, 16>;

constexpr uint8_t kIcmpv6EchoRequest = 128;
constexpr uint8_t kIcmpv6EchoReply = 129;
constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;
constexpr uint8_t kNdpHopLimit = 255;        // RFC 4861 7.1: proves the sender is on-link
constexpr size_t kNeighborMessageSize = 32;  // header + target + one link-layer option

enum class Ipv6Error : uint8_t {
  none,
  too_short,           // fewer than 40 bytes
  bad_version,         // not 6
  bad_payload_length,  // payload length runs past the buffer
  extension_header,    // next header is an extension header (or a jumbogram's 0)
};

struct Ipv6View {
  Ipv6Address src{}, dst{};
  uint8_t next_header = 0, hop_limit = 0;
  size_t payload_len = 0;  // the payload starts at kIpv6HeaderSize
};

// p/len: the bytes after the Ethernet header; bytes past 40 + payload length are padding.
// Next headers 0 (hop-by-hop), 43 (routing), 44 (fragment), 50 (ESP), 51 (AH), 60
// (destination options), 135, 139, 140, 253, 254 are extension_header. out is filled
// whenever the payload length is valid (for extension_header too).
Ipv6Error parse_ipv6(const uint8_t* p, size_t len, Ipv6View* out) noexcept;

// Writes the 40-byte header: traffic class and flow label 0.
void write_ipv6_header(uint8_t* out, const Ipv6Address& src, const Ipv6Address& dst,
                       uint8_t next_header, uint16_t payload_len, uint8_t hop_limit) noexcept;

// The checksum of an L4 message over IPv6, its checksum field counted as 0: at offset 6
// for UDP (17), 2 for ICMPv6 (58), 16 for TCP (6); any other protocol is summed as it is
// (the caller zeroes its field). For UDP a computed 0 is returned as 0xFFFF.
uint16_t l4_ipv6_checksum(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                          const uint8_t* l4, size_t l4_len) noexcept;

// RFC 4291 2.2 text (with "::" and a trailing dotted quad; no zone id) to bytes, and back
// in RFC 5952's canonical form.
std::optional<Ipv6Address> parse_ipv6_address(std::string_view text) noexcept;
std::string ipv6_address_to_string(const Ipv6Address& address);

bool is_ipv6_multicast(const Ipv6Address& address) noexcept;    // ff00::/8
bool is_ipv6_unspecified(const Ipv6Address& address) noexcept;  // ::
// ff02::1:ffXX:XXXX, the low 24 bits of address (RFC 4291 2.7.1).
Ipv6Address solicited_node_multicast(const Ipv6Address& address) noexcept;
// 33:33 and the low 32 bits of a multicast address (RFC 2464 7).
MacAddress ipv6_multicast_mac(const Ipv6Address& address) noexcept;

// A neighbor solicitation (135) or advertisement (136) and its link-layer address option
// (source for NS, target for NA), when it has one.
struct NeighborMessage {
  uint8_t type = 0;
  Ipv6Address target{};
  std::optional<MacAddress> link_layer;
  bool solicited = false, override_flag = false;  // NA only
  bool router = false;                            // NA only
};

// icmp/len: the ICMPv6 message (the IPv6 payload); ip: its header. nullopt unless RFC 4861
// 7.1.1 / 7.1.2 validation passes: hop limit 255, code 0, a correct checksum, at least 24
// bytes, options of non-zero length that fit, a target that is not multicast; for an NS
// from :: (duplicate address detection) a solicited-node destination and no source
// link-layer option; for an NA to a multicast destination the solicited flag clear.
std::optional<NeighborMessage> parse_neighbor_message(const uint8_t* icmp, size_t len,
                                                      const Ipv6View& ip) noexcept;

// Writes a 32-byte advertisement for target with our_mac as target link-layer option, the
// override flag set (the address is ours, not anycast), router clear, and the checksum for
// src -> dst. Returns the ICMPv6 length.
size_t write_neighbor_advertisement(uint8_t* out, const Ipv6Address& target,
                                    const MacAddress& our_mac, bool solicited,
                                    const Ipv6Address& src, const Ipv6Address& dst) noexcept;

// Writes a solicitation for target with our_mac as source link-layer option, checksummed
// for src -> dst (normally solicited_node_multicast(target)). From :: (duplicate address
// detection) the option is left out, as RFC 4861 7.2.2 requires: 24 bytes instead of 32.
// Returns the ICMPv6 length.
size_t write_neighbor_solicitation(uint8_t* out, const Ipv6Address& target,
                                   const MacAddress& our_mac, const Ipv6Address& src,
                                   const Ipv6Address& dst) noexcept;

// An ICMPv6 echo request or reply: nullopt unless len >= 8, type 128 or 129, code 0 and,
// when verify_checksum, the checksum over ip's pseudo header is right.
std::optional<IcmpEcho> parse_icmpv6_echo(const uint8_t* icmp, size_t len, const Ipv6View& ip,
                                          bool verify_checksum) noexcept;

// Echo request (128) -> reply (129) in place, the checksum recomputed over the pseudo header
// of src -> dst, the reply's addresses (the caller swaps them first; the reply's source may
// differ from the request's destination when that was multicast). Anything that is not an
// echo request of at least 8 bytes is left alone.
void make_icmpv6_echo_reply(uint8_t* icmp, size_t len, const Ipv6Address& src,
                            const Ipv6Address& dst) noexcept;

}  // namespace weir::wire
