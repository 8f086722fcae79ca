// One Ethernet frame through the whole userspace network stack, as the worker's receive
// path runs it: Ethernet, then ARP, or IPv4 -> UDP / ICMP echo, or IPv6 -> UDP / ICMPv6
// echo / neighbor discovery. Besides ASan/UBSan finding any read past the frame, checks the
// parsers' promises: views inside the buffer, writers reproducing what parsed, a verified
// checksum being the one we compute, an echo reply that verifies.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "wire/arp_packet.h"
#include "wire/byte_io.h"
#include "wire/ethernet_frame.h"
#include "wire/icmp_message.h"
#include "wire/inet_checksum.h"
#include "wire/ipv4_packet.h"
#include "wire/ipv6_packet.h"
#include "wire/udp_datagram.h"

namespace {

using namespace weir::wire;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// A stored checksum that verified must be what we compute (0 and 0xFFFF are the same number
// in ones' complement; a computed 0 may have been sent either way).
bool same_checksum(uint16_t stored, uint16_t computed) {
  return stored == computed || (computed == 0 && stored == 0xFFFF) ||
         (computed == 0xFFFF && stored == 0);
}

bool ip_ok(const Ipv4View& ip, size_t len) {
  return ip.header_size >= kIpv4HeaderSize && ip.header_size <= ip.total_length &&
         ip.total_length <= len;
}

void fuzz_arp(const uint8_t* p, size_t len) {
  const auto arp = parse_arp(p, len);
  if (!arp) return;
  check(len >= kArpPacketSize);
  uint8_t out[kArpPacketSize];
  write_arp(out, *arp);
  check(std::memcmp(out, p, kArpPacketSize) == 0);  // parse accepts exactly one shape
}

void fuzz_ipv4(const uint8_t* p, size_t len) {
  Ipv4View ip;
  const Ipv4Error e = parse_ipv4(p, len, true, &ip);
  Ipv4View unverified;
  const Ipv4Error e2 = parse_ipv4(p, len, false, &unverified);
  check(e == e2 ||
        (e == Ipv4Error::bad_checksum && (e2 == Ipv4Error::none || e2 == Ipv4Error::fragment)));
  if (e2 != Ipv4Error::none) return;
  check(ip_ok(unverified, len));
  (void)ipv4_error_name(e);
  const uint8_t* l4 = p + unverified.header_size;
  const size_t l4_len = unverified.total_length - unverified.header_size;
  if (unverified.protocol == kIpProtoUdp) {
    UdpView udp;
    const UdpError ue = parse_udp_ipv4(l4, l4_len, unverified.src, unverified.dst, true, &udp);
    (void)udp_error_name(ue);
    if (ue != UdpError::none) return;
    check(udp.payload_offset + udp.payload_len <= l4_len);
    const uint16_t stored = load_be16(l4 + 6);
    if (stored != 0) {
      check(stored == udp_ipv4_checksum(unverified.src, unverified.dst, l4,
                                        udp.payload_offset + udp.payload_len));
    }
  } else if (unverified.protocol == kIpProtoIcmp) {
    const auto echo = parse_icmp_echo(l4, l4_len, true);
    if (!echo || echo->type != kIcmpEchoRequest) return;
    uint8_t reply[65536];
    std::memcpy(reply, l4, l4_len);
    make_icmp_echo_reply(reply, l4_len);
    const auto answered = parse_icmp_echo(reply, l4_len, true);
    check(answered && answered->type == kIcmpEchoReply &&
          answered->identifier == echo->identifier && answered->sequence == echo->sequence);
  }
}

void fuzz_ipv6(const uint8_t* p, size_t len) {
  Ipv6View ip;
  if (parse_ipv6(p, len, &ip) != Ipv6Error::none) return;
  check(kIpv6HeaderSize + ip.payload_len <= len);
  const uint8_t* l4 = p + kIpv6HeaderSize;
  if (ip.next_header == kIpProtoUdp) {
    UdpView udp;
    if (parse_udp_ipv6(l4, ip.payload_len, ip.src, ip.dst, true, &udp) != UdpError::none) return;
    check(udp.payload_offset + udp.payload_len <= ip.payload_len);
    check(load_be16(l4 + 6) ==
          l4_ipv6_checksum(ip.src, ip.dst, kIpProtoUdp, l4, udp.payload_offset + udp.payload_len));
  } else if (ip.next_header == kIpProtoIcmpv6) {
    if (const auto nd = parse_neighbor_message(l4, ip.payload_len, ip)) {
      check(ip.payload_len >= 24 && ip.hop_limit == kNdpHopLimit);
      check(same_checksum(load_be16(l4 + 2),
                          l4_ipv6_checksum(ip.src, ip.dst, kIpProtoIcmpv6, l4, ip.payload_len)));
      check(!is_ipv6_multicast(nd->target));
      // What we would answer with parses back as what we meant.
      uint8_t out[kNeighborMessageSize];
      const MacAddress ours{{0x02, 0, 0, 0, 0, 1}};
      Ipv6View reply = ip;
      std::swap(reply.src, reply.dst);
      const size_t n =
          nd->type == kIcmpv6NeighborSolicitation
              ? write_neighbor_advertisement(out, nd->target, ours, false, reply.src, reply.dst)
              : write_neighbor_solicitation(out, nd->target, ours, reply.src, reply.dst);
      const auto again = parse_neighbor_message(out, n, reply);
      // Our own message may break a destination rule the input's addresses set up (an NS
      // from :: to a non-solicited-node group, say); when it parses it must be faithful.
      if (again) check(again->target == nd->target);
    } else if (const auto echo = parse_icmpv6_echo(l4, ip.payload_len, ip, true)) {
      if (echo->type != kIcmpv6EchoRequest) return;
      uint8_t reply[65536];
      std::memcpy(reply, l4, ip.payload_len);
      make_icmpv6_echo_reply(reply, ip.payload_len, ip.dst, ip.src);
      Ipv6View swapped = ip;
      std::swap(swapped.src, swapped.dst);
      const auto answered = parse_icmpv6_echo(reply, ip.payload_len, swapped, true);
      check(answered && answered->type == kIcmpv6EchoReply &&
            answered->identifier == echo->identifier);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto eth = parse_ethernet(data, size);
  if (!eth) return 0;
  uint8_t header[kEthernetHeaderSize];
  write_ethernet_header(header, eth->dst, eth->src, eth->ether_type);
  check(std::memcmp(header, data, kEthernetHeaderSize) == 0);
  const uint8_t* p = data + eth->payload_offset;
  const size_t len = size - eth->payload_offset;
  switch (eth->ether_type) {
    case kEtherTypeArp:
      fuzz_arp(p, len);
      break;
    case kEtherTypeIpv4:
      fuzz_ipv4(p, len);
      break;
    case kEtherTypeIpv6:
      fuzz_ipv6(p, len);
      break;
    default:
      // Anything else (VLAN tags included) the worker drops; the other parsers must still
      // survive it.
      fuzz_arp(p, len);
      fuzz_ipv4(p, len);
      fuzz_ipv6(p, len);
      break;
  }
  return 0;
}
