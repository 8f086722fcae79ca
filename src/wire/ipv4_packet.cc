#include "wire/ipv4_packet.h"

#include "wire/byte_io.h"
#include "wire/inet_checksum.h"

namespace weir::wire {

namespace {

constexpr uint16_t kFlagDontFragment = 0x4000;
constexpr uint16_t kFlagMoreFragments = 0x2000;
constexpr uint16_t kFragmentOffsetMask = 0x1FFF;

}  // namespace

Ipv4Error parse_ipv4(const uint8_t* p, size_t len, bool verify_checksum, Ipv4View* out) noexcept {
  if (len < kIpv4HeaderSize) return Ipv4Error::too_short;
  if ((p[0] >> 4) != 4) return Ipv4Error::bad_version;
  const size_t header_size = static_cast<size_t>(p[0] & 0x0F) * 4;
  if (header_size < kIpv4HeaderSize || header_size > len) return Ipv4Error::bad_header_length;
  const size_t total_length = load_be16(p + 2);
  if (total_length < header_size || total_length > len) return Ipv4Error::bad_total_length;
  out->src = load_be32(p + 12);
  out->dst = load_be32(p + 16);
  out->protocol = p[9];
  out->ttl = p[8];
  out->id = load_be16(p + 4);
  out->header_size = header_size;
  out->total_length = total_length;
  // Over the whole header, stored checksum included, a correct header sums to 0xFFFF.
  if (verify_checksum && checksum_finish(checksum_partial(p, header_size)) != 0) {
    return Ipv4Error::bad_checksum;
  }
  const uint16_t flags_fragment = load_be16(p + 6);
  if ((flags_fragment & (kFlagMoreFragments | kFragmentOffsetMask)) != 0) {
    return Ipv4Error::fragment;
  }
  return Ipv4Error::none;
}

void write_ipv4_header(uint8_t* out, uint32_t src, uint32_t dst, uint8_t protocol,
                       uint16_t payload_len, uint16_t id, uint8_t ttl,
                       bool fill_checksum) noexcept {
  out[0] = 0x45;
  out[1] = 0;
  store_be16(out + 2, static_cast<uint16_t>(kIpv4HeaderSize + payload_len));
  store_be16(out + 4, id);
  store_be16(out + 6, kFlagDontFragment);
  out[8] = ttl;
  out[9] = protocol;
  store_be16(out + 10, 0);
  store_be32(out + 12, src);
  store_be32(out + 16, dst);
  if (fill_checksum) store_be16(out + 10, ipv4_header_checksum(out, kIpv4HeaderSize));
}

const char* ipv4_error_name(Ipv4Error error) noexcept {
  switch (error) {
    case Ipv4Error::none:
      return "none";
    case Ipv4Error::too_short:
      return "too_short";
    case Ipv4Error::bad_version:
      return "bad_version";
    case Ipv4Error::bad_header_length:
      return "bad_header_length";
    case Ipv4Error::bad_total_length:
      return "bad_total_length";
    case Ipv4Error::bad_checksum:
      return "bad_checksum";
    case Ipv4Error::fragment:
      return "fragment";
  }
  return "unknown";
}

std::optional<uint32_t> parse_ipv4_address(std::string_view text) noexcept {
  uint32_t address = 0;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    const size_t start = i;
    uint32_t value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) {
      value = value * 10 + static_cast<uint32_t>(text[i] - '0');
      ++i;
    }
    const size_t digits = i - start;
    if (digits == 0 || value > 255) return std::nullopt;
    if (digits > 1 && text[start] == '0') return std::nullopt;  // octal in inet_aton: refuse
    address = (address << 8) | value;
  }
  if (i != text.size()) return std::nullopt;
  return address;
}

std::string ipv4_address_to_string(uint32_t address) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (shift != 24) s += '.';
    s += std::to_string((address >> shift) & 0xFF);
  }
  return s;
}

}  // namespace weir::wire
