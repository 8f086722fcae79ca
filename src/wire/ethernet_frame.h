// Ethernet II framing (IEEE 802.3 with an EtherType) for the userspace network stack: MAC
// addresses, a bounds-checked header parse and a header writer. Nothing here allocates
// except MacAddress::to_string.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weir::wire {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  bool operator==(const MacAddress&) const = default;
  bool is_broadcast() const noexcept;  // ff:ff:ff:ff:ff:ff
  bool is_multicast() const noexcept;  // the I/G bit (broadcast included)
  bool is_zero() const noexcept;
  std::string to_string() const;  // "02:00:00:00:00:01", lower case
  // Six two-digit hex groups separated by ':' (or '-'), either case; nullopt otherwise.
  static std::optional<MacAddress> parse(std::string_view text) noexcept;
  static MacAddress broadcast() noexcept;
};

constexpr size_t kEthernetHeaderSize = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;

struct EthernetView {
  MacAddress dst, src;
  uint16_t ether_type = 0;
  size_t payload_offset = kEthernetHeaderSize;
};

// nullopt for fewer than 14 bytes. A VLAN-tagged frame comes back as it is, with
// ether_type 0x8100 and the tag as the first payload bytes: the worker drops them (its
// port is untagged). Values below 0x0600 (802.3 length fields) also come back as they are.
std::optional<EthernetView> parse_ethernet(const uint8_t* frame, size_t len) noexcept;

// Writes the 14-byte header.
void write_ethernet_header(uint8_t* out, const MacAddress& dst, const MacAddress& src,
                           uint16_t ether_type) noexcept;

}  // namespace weir::wire
