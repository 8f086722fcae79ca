#include "wire/udp_datagram.h"

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"

namespace weir::wire {

namespace {

constexpr uint8_t kProtoUdp = 17;

// The header checks both families share; returns the datagram length via *udp_len.
UdpError parse_header(const uint8_t* udp, size_t ip_payload_len, UdpView* out, size_t* udp_len) {
  if (ip_payload_len < kUdpHeaderSize) return UdpError::too_short;
  const size_t length = load_be16(udp + 4);
  if (length < kUdpHeaderSize || length > ip_payload_len) return UdpError::bad_length;
  out->src_port = load_be16(udp);
  out->dst_port = load_be16(udp + 2);
  out->payload_offset = kUdpHeaderSize;
  out->payload_len = length - kUdpHeaderSize;
  *udp_len = length;
  return UdpError::none;
}

}  // namespace

UdpError parse_udp_ipv4(const uint8_t* udp, size_t ip_payload_len, uint32_t src_ip, uint32_t dst_ip,
                        bool verify_checksum, UdpView* out) noexcept {
  size_t length = 0;
  const UdpError e = parse_header(udp, ip_payload_len, out, &length);
  if (e != UdpError::none) return e;
  if (verify_checksum && load_be16(udp + 6) != 0) {
    const uint32_t sum = checksum_partial(
        udp, length,
        ipv4_pseudo_header_sum(src_ip, dst_ip, kProtoUdp, static_cast<uint16_t>(length)));
    if (checksum_finish(sum) != 0) return UdpError::bad_checksum;
  }
  return UdpError::none;
}

UdpError parse_udp_ipv6(const uint8_t* udp, size_t ip_payload_len,
                        const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                        bool verify_checksum, UdpView* out) noexcept {
  size_t length = 0;
  const UdpError e = parse_header(udp, ip_payload_len, out, &length);
  if (e != UdpError::none) return e;
  if (load_be16(udp + 6) == 0) return UdpError::bad_checksum;
  if (verify_checksum &&
      checksum_finish(checksum_partial(
          udp, length,
          ipv6_pseudo_header_sum(src, dst, kProtoUdp, static_cast<uint32_t>(length)))) != 0) {
    return UdpError::bad_checksum;
  }
  return UdpError::none;
}

void write_udp_header(uint8_t* out, uint16_t src_port, uint16_t dst_port,
                      uint16_t payload_len) noexcept {
  store_be16(out, src_port);
  store_be16(out + 2, dst_port);
  store_be16(out + 4, static_cast<uint16_t>(kUdpHeaderSize + payload_len));
  store_be16(out + 6, 0);
}

const char* udp_error_name(UdpError error) noexcept {
  switch (error) {
    case UdpError::none:
      return "none";
    case UdpError::too_short:
      return "too_short";
    case UdpError::bad_length:
      return "bad_length";
    case UdpError::bad_checksum:
      return "bad_checksum";
  }
  return "unknown";
}

}  // namespace weir::wire
