#include "wire/ipv6_packet.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"

namespace weir::wire {

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = kIpProtoUdp;
constexpr uint8_t kProtoIcmpv6 = kIpProtoIcmpv6;

constexpr size_t kNdpTargetOffset = 8;
constexpr size_t kNdpOptionsOffset = 24;
constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint8_t kFlagRouter = 0x80;
constexpr uint8_t kFlagSolicited = 0x40;
constexpr uint8_t kFlagOverride = 0x20;

bool is_extension_header(uint8_t next_header) {
  switch (next_header) {
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 44:   // fragment
    case 50:   // encapsulating security payload
    case 51:   // authentication header
    case 60:   // destination options
    case 135:  // mobility
    case 139:  // host identity protocol
    case 140:  // shim6
    case 253:  // experimentation (RFC 3692)
    case 254:
      return true;
    default:
      return false;
  }
}

size_t checksum_offset(uint8_t next_header) {
  switch (next_header) {
    case kProtoUdp:
      return 6;
    case kProtoIcmpv6:
      return 2;
    case kProtoTcp:
      return 16;
    default:
      return SIZE_MAX;
  }
}

// True when the message's checksum (stored in it) is right for src -> dst.
bool checksum_ok(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                 const uint8_t* l4, size_t len) {
  const uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, next_header, static_cast<uint32_t>(len));
  return checksum_finish(checksum_partial(l4, len, pseudo)) == 0;
}

bool is_solicited_node_multicast(const Ipv6Address& a) {
  static constexpr uint8_t kPrefix[13] = {0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF};
  return std::memcmp(a.data(), kPrefix, sizeof kPrefix) == 0;
}

// The shared layout of NS and NA: type, code, checksum, 4 bytes of flags/reserved, target,
// one link-layer address option of 8 bytes.
size_t write_neighbor_message(uint8_t* out, uint8_t type, uint8_t flags, const Ipv6Address& target,
                              uint8_t option, const MacAddress* mac, const Ipv6Address& src,
                              const Ipv6Address& dst) {
  out[0] = type;
  out[1] = 0;
  store_be16(out + 2, 0);
  out[4] = flags;
  out[5] = out[6] = out[7] = 0;
  std::memcpy(out + kNdpTargetOffset, target.data(), target.size());
  size_t len = kNdpOptionsOffset;
  if (mac != nullptr) {
    out[len] = option;
    out[len + 1] = 1;  // in units of 8 bytes
    std::memcpy(out + len + 2, mac->bytes.data(), 6);
    len += 8;
  }
  store_be16(out + 2, l4_ipv6_checksum(src, dst, kProtoIcmpv6, out, len));
  return len;
}

}  // namespace

Ipv6Error parse_ipv6(const uint8_t* p, size_t len, Ipv6View* out) noexcept {
  if (len < kIpv6HeaderSize) return Ipv6Error::too_short;
  if ((p[0] >> 4) != 6) return Ipv6Error::bad_version;
  const size_t payload_len = load_be16(p + 4);
  if (payload_len > len - kIpv6HeaderSize) return Ipv6Error::bad_payload_length;
  out->payload_len = payload_len;
  out->next_header = p[6];
  out->hop_limit = p[7];
  std::memcpy(out->src.data(), p + 8, 16);
  std::memcpy(out->dst.data(), p + 24, 16);
  if (is_extension_header(out->next_header)) return Ipv6Error::extension_header;
  return Ipv6Error::none;
}

void write_ipv6_header(uint8_t* out, const Ipv6Address& src, const Ipv6Address& dst,
                       uint8_t next_header, uint16_t payload_len, uint8_t hop_limit) noexcept {
  store_be32(out, 0x60000000);
  store_be16(out + 4, payload_len);
  out[6] = next_header;
  out[7] = hop_limit;
  std::memcpy(out + 8, src.data(), 16);
  std::memcpy(out + 24, dst.data(), 16);
}

uint16_t l4_ipv6_checksum(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                          const uint8_t* l4, size_t l4_len) noexcept {
  uint32_t sum = ipv6_pseudo_header_sum(src, dst, next_header, static_cast<uint32_t>(l4_len));
  const size_t field = checksum_offset(next_header);
  if (field != SIZE_MAX && field + 2 <= l4_len) {
    // Both pieces around the field; the first has an even length.
    sum = checksum_partial(l4, field, sum);
    sum = checksum_partial(l4 + field + 2, l4_len - field - 2, sum);
  } else {
    sum = checksum_partial(l4, l4_len, sum);
  }
  const uint16_t c = checksum_finish(sum);
  return (c == 0 && next_header == kProtoUdp) ? 0xFFFF : c;
}

std::optional<Ipv6Address> parse_ipv6_address(std::string_view text) noexcept {
  // inet_pton implements RFC 4291's text forms exactly; it wants a terminated string.
  char buffer[64];
  if (text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  Ipv6Address a;
  if (inet_pton(AF_INET6, buffer, a.data()) != 1) return std::nullopt;
  return a;
}

std::string ipv6_address_to_string(const Ipv6Address& address) {
  char buffer[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, address.data(), buffer, sizeof buffer) == nullptr) return {};
  return buffer;
}

bool is_ipv6_multicast(const Ipv6Address& address) noexcept { return address[0] == 0xFF; }

bool is_ipv6_unspecified(const Ipv6Address& address) noexcept {
  for (uint8_t b : address) {
    if (b != 0) return false;
  }
  return true;
}

Ipv6Address solicited_node_multicast(const Ipv6Address& address) noexcept {
  Ipv6Address m{0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xFF};
  m[13] = address[13];
  m[14] = address[14];
  m[15] = address[15];
  return m;
}

MacAddress ipv6_multicast_mac(const Ipv6Address& address) noexcept {
  return MacAddress{{0x33, 0x33, address[12], address[13], address[14], address[15]}};
}

std::optional<NeighborMessage> parse_neighbor_message(const uint8_t* icmp, size_t len,
                                                      const Ipv6View& ip) noexcept {
  if (len < kNdpOptionsOffset) return std::nullopt;
  const uint8_t type = icmp[0];
  if (type != kIcmpv6NeighborSolicitation && type != kIcmpv6NeighborAdvertisement) {
    return std::nullopt;
  }
  if (icmp[1] != 0 || ip.hop_limit != kNdpHopLimit) return std::nullopt;
  if (!checksum_ok(ip.src, ip.dst, kProtoIcmpv6, icmp, len)) return std::nullopt;
  NeighborMessage m;
  m.type = type;
  std::memcpy(m.target.data(), icmp + kNdpTargetOffset, m.target.size());
  if (is_ipv6_multicast(m.target)) return std::nullopt;
  if (type == kIcmpv6NeighborAdvertisement) {
    m.router = (icmp[4] & kFlagRouter) != 0;
    m.solicited = (icmp[4] & kFlagSolicited) != 0;
    m.override_flag = (icmp[4] & kFlagOverride) != 0;
    if (m.solicited && is_ipv6_multicast(ip.dst)) return std::nullopt;
  }
  const uint8_t wanted =
      type == kIcmpv6NeighborSolicitation ? kOptionSourceLinkLayer : kOptionTargetLinkLayer;
  for (size_t i = kNdpOptionsOffset; i < len;) {
    if (len - i < 2) return std::nullopt;
    const size_t option_len = static_cast<size_t>(icmp[i + 1]) * 8;
    if (option_len == 0 || option_len > len - i) return std::nullopt;
    // Only the first link-layer option counts; an Ethernet one is 8 bytes, but longer is
    // allowed (other link layers), the address being the first 6 bytes after type/length.
    if (icmp[i] == wanted && !m.link_layer) {
      MacAddress mac;
      std::memcpy(mac.bytes.data(), icmp + i + 2, 6);
      m.link_layer = mac;
    }
    i += option_len;
  }
  if (type == kIcmpv6NeighborSolicitation && is_ipv6_unspecified(ip.src)) {
    if (!is_solicited_node_multicast(ip.dst) || m.link_layer) return std::nullopt;
  }
  return m;
}

size_t write_neighbor_advertisement(uint8_t* out, const Ipv6Address& target,
                                    const MacAddress& our_mac, bool solicited,
                                    const Ipv6Address& src, const Ipv6Address& dst) noexcept {
  const uint8_t flags = static_cast<uint8_t>(kFlagOverride | (solicited ? kFlagSolicited : 0));
  return write_neighbor_message(out, kIcmpv6NeighborAdvertisement, flags, target,
                                kOptionTargetLinkLayer, &our_mac, src, dst);
}

size_t write_neighbor_solicitation(uint8_t* out, const Ipv6Address& target,
                                   const MacAddress& our_mac, const Ipv6Address& src,
                                   const Ipv6Address& dst) noexcept {
  return write_neighbor_message(out, kIcmpv6NeighborSolicitation, 0, target, kOptionSourceLinkLayer,
                                is_ipv6_unspecified(src) ? nullptr : &our_mac, src, dst);
}

std::optional<IcmpEcho> parse_icmpv6_echo(const uint8_t* icmp, size_t len, const Ipv6View& ip,
                                          bool verify_checksum) noexcept {
  if (len < kIcmpEchoHeaderSize) return std::nullopt;
  if (icmp[0] != kIcmpv6EchoRequest && icmp[0] != kIcmpv6EchoReply) return std::nullopt;
  if (icmp[1] != 0) return std::nullopt;
  if (verify_checksum && !checksum_ok(ip.src, ip.dst, kProtoIcmpv6, icmp, len)) {
    return std::nullopt;
  }
  IcmpEcho echo;
  echo.type = icmp[0];
  echo.identifier = load_be16(icmp + 4);
  echo.sequence = load_be16(icmp + 6);
  return echo;
}

void make_icmpv6_echo_reply(uint8_t* icmp, size_t len, const Ipv6Address& src,
                            const Ipv6Address& dst) noexcept {
  if (len < kIcmpEchoHeaderSize || icmp[0] != kIcmpv6EchoRequest) return;
  icmp[0] = kIcmpv6EchoReply;
  store_be16(icmp + 2, l4_ipv6_checksum(src, dst, kProtoIcmpv6, icmp, len));
}

}  // namespace weir::wire
