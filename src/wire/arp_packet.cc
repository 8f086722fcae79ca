#include "wire/arp_packet.h"

#include <cstring>

#include "wire/byte_io.h"

namespace weir::wire {

namespace {

constexpr uint16_t kHardwareEthernet = 1;
constexpr uint16_t kProtocolIpv4 = 0x0800;
constexpr uint8_t kHardwareLength = 6;
constexpr uint8_t kProtocolLength = 4;

}  // namespace

std::optional<ArpPacket> parse_arp(const uint8_t* p, size_t len) noexcept {
  if (len < kArpPacketSize) return std::nullopt;
  if (load_be16(p) != kHardwareEthernet || load_be16(p + 2) != kProtocolIpv4 ||
      p[4] != kHardwareLength || p[5] != kProtocolLength) {
    return std::nullopt;
  }
  ArpPacket arp;
  arp.op = load_be16(p + 6);
  if (arp.op != kArpRequest && arp.op != kArpReply) return std::nullopt;
  std::memcpy(arp.sender_mac.bytes.data(), p + 8, 6);
  arp.sender_ip = load_be32(p + 14);
  std::memcpy(arp.target_mac.bytes.data(), p + 18, 6);
  arp.target_ip = load_be32(p + 24);
  return arp;
}

void write_arp(uint8_t* out, const ArpPacket& arp) noexcept {
  store_be16(out, kHardwareEthernet);
  store_be16(out + 2, kProtocolIpv4);
  out[4] = kHardwareLength;
  out[5] = kProtocolLength;
  store_be16(out + 6, arp.op);
  std::memcpy(out + 8, arp.sender_mac.bytes.data(), 6);
  store_be32(out + 14, arp.sender_ip);
  std::memcpy(out + 18, arp.target_mac.bytes.data(), 6);
  store_be32(out + 24, arp.target_ip);
}

}  // namespace weir::wire
