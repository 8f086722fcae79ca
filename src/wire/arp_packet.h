// ARP (RFC 826) for Ethernet and IPv4 only: the one shape a worker answers and sends.
// IPv4 addresses are in host byte order. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "wire/ethernet_frame.h"

namespace weir::wire {

constexpr size_t kArpPacketSize = 28;
constexpr uint16_t kArpRequest = 1;
constexpr uint16_t kArpReply = 2;

struct ArpPacket {
  uint16_t op = 0;
  MacAddress sender_mac;
  uint32_t sender_ip = 0;
  MacAddress target_mac;
  uint32_t target_ip = 0;
};

// nullopt unless len >= 28 and the packet says hardware type 1 (Ethernet), protocol type
// 0x0800, hardware length 6, protocol length 4 and operation 1 or 2. Bytes after the 28
// (Ethernet padding to the 60-byte minimum frame) are ignored.
std::optional<ArpPacket> parse_arp(const uint8_t* p, size_t len) noexcept;

// Writes the 28-byte packet (Ethernet/IPv4 fields filled in).
void write_arp(uint8_t* out, const ArpPacket& arp) noexcept;

}  // namespace weir::wire
