// UDP (RFC 768) over IPv4 and IPv6 (RFC 8200 8.1): a bounds-checked header parse with
// optional checksum verification and a header writer. Nothing here allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weir::wire {

constexpr size_t kUdpHeaderSize = 8;

enum class UdpError : uint8_t {
  none,
  too_short,   // the IP payload has fewer than 8 bytes
  bad_length,  // the length field is < 8 or longer than the IP payload
  bad_checksum,
};

struct UdpView {
  uint16_t src_port = 0, dst_port = 0;
  size_t payload_offset = kUdpHeaderSize;  // from the start of the UDP header
  size_t payload_len = 0;                  // length field - 8
};

// udp: the IP payload, ip_payload_len bytes (total length - header size). A length field
// shorter than the IP payload is accepted: the datagram ends where the field says. src_ip
// and dst_ip are host order and used only when verify_checksum. A checksum field of 0
// means the sender computed none (RFC 768): accepted. out is filled whenever the length is
// valid.
UdpError parse_udp_ipv4(const uint8_t* udp, size_t ip_payload_len, uint32_t src_ip, uint32_t dst_ip,
                        bool verify_checksum, UdpView* out) noexcept;

// The same over IPv6, where the checksum is mandatory: a checksum field of 0 is
// bad_checksum (RFC 8200 8.1) whether or not verify_checksum is set (checking it costs
// nothing, and a NIC's verification does not cover it).
UdpError parse_udp_ipv6(const uint8_t* udp, size_t ip_payload_len,
                        const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                        bool verify_checksum, UdpView* out) noexcept;

// Writes the 8-byte header with length 8 + payload_len (at most 65527) and checksum 0: the
// caller fills it (udp_ipv4_checksum, l4_ipv6_checksum) or leaves it to offload.
void write_udp_header(uint8_t* out, uint16_t src_port, uint16_t dst_port,
                      uint16_t payload_len) noexcept;

const char* udp_error_name(UdpError error) noexcept;

}  // namespace weir::wire
