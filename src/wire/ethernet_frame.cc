#include "wire/ethernet_frame.h"

#include <cstring>

#include "wire/byte_io.h"

namespace weir::wire {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool MacAddress::is_broadcast() const noexcept {
  for (uint8_t b : bytes) {
    if (b != 0xFF) return false;
  }
  return true;
}

bool MacAddress::is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }

bool MacAddress::is_zero() const noexcept {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string MacAddress::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(17, ':');
  for (size_t i = 0; i < bytes.size(); ++i) {
    s[3 * i] = kHex[bytes[i] >> 4];
    s[3 * i + 1] = kHex[bytes[i] & 0x0F];
  }
  return s;
}

std::optional<MacAddress> MacAddress::parse(std::string_view text) noexcept {
  if (text.size() != 17) return std::nullopt;
  const char separator = text[2];
  if (separator != ':' && separator != '-') return std::nullopt;
  MacAddress mac;
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex_value(text[3 * i]);
    const int lo = hex_value(text[3 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[3 * i + 2] != separator) return std::nullopt;
    mac.bytes[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return mac;
}

MacAddress MacAddress::broadcast() noexcept {
  MacAddress mac;
  mac.bytes.fill(0xFF);
  return mac;
}

std::optional<EthernetView> parse_ethernet(const uint8_t* frame, size_t len) noexcept {
  if (len < kEthernetHeaderSize) return std::nullopt;
  EthernetView v;
  std::memcpy(v.dst.bytes.data(), frame, 6);
  std::memcpy(v.src.bytes.data(), frame + 6, 6);
  v.ether_type = load_be16(frame + 12);
  v.payload_offset = kEthernetHeaderSize;
  return v;
}

void write_ethernet_header(uint8_t* out, const MacAddress& dst, const MacAddress& src,
                           uint16_t ether_type) noexcept {
  std::memcpy(out, dst.bytes.data(), 6);
  std::memcpy(out + 6, src.bytes.data(), 6);
  store_be16(out + 12, ether_type);
}

}  // namespace weir::wire
