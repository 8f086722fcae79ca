// IPv4 headers (RFC 791) for the userspace network stack: a bounds-checked parse that
// refuses what the worker cannot handle (fragments) and a writer for the one header shape
// it sends. Addresses are uint32_t in host byte order everywhere. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::wire {

constexpr size_t kIpv4HeaderSize = 20;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoIcmpv6 = 58;

enum class Ipv4Error : uint8_t {
  none,
  too_short,          // fewer than 20 bytes
  bad_version,        // not 4
  bad_header_length,  // IHL < 5, or the header runs past the buffer
  bad_total_length,   // total length shorter than the header or longer than the buffer
  bad_checksum,
  fragment,  // MF set or a fragment offset: the worker does not reassemble
};

struct Ipv4View {
  uint32_t src = 0, dst = 0;
  uint8_t protocol = 0, ttl = 0;
  uint16_t id = 0;
  size_t header_size = 0;   // IHL * 4: where the L4 payload starts
  size_t total_length = 0;  // header + payload; bytes after it in the buffer are padding
};

// p/len: the bytes after the Ethernet header, which may run past the total length (the
// padding of a minimum-size frame): allowed. Checks in order: length, version, header
// length, total length, then (when verify_checksum) the header checksum, then fragments.
// Options (IHL > 5) are accepted and skipped. out is filled when the header and total
// lengths are valid (so for bad_checksum and fragment as well as none).
Ipv4Error parse_ipv4(const uint8_t* p, size_t len, bool verify_checksum, Ipv4View* out) noexcept;

// Writes a 20-byte header: version 4, IHL 5, DSCP/ECN 0, total length 20 + payload_len
// (which must not exceed 65515), DF set, no options. fill_checksum=false leaves the
// checksum 0 for a NIC's offload to fill.
void write_ipv4_header(uint8_t* out, uint32_t src, uint32_t dst, uint8_t protocol,
                       uint16_t payload_len, uint16_t id, uint8_t ttl, bool fill_checksum) noexcept;

const char* ipv4_error_name(Ipv4Error error) noexcept;

// Dotted-quad text ("192.0.2.1") to a host-order address and back, for configuration and
// logs. parse accepts exactly four decimal octets 0..255 without leading zeros.
std::optional<uint32_t> parse_ipv4_address(std::string_view text) noexcept;
std::string ipv4_address_to_string(uint32_t address);

}  // namespace weir::wire
