#include "wire/rtp_packet.h"

namespace weir::wire {

PacketClass classify_packet(const uint8_t* data, size_t len) {
  if (len == 0) return PacketClass::unknown;
  const uint8_t b = data[0];
  // RFC 7983 section 7: the first byte alone tells the protocols sharing a port apart.
  if (b <= 3) return PacketClass::stun;
  if (b >= 20 && b <= 63) return PacketClass::dtls;
  if (b >= 128 && b <= 191) {
    if (len < 2) return PacketClass::unknown;
    // RFC 5761 section 4: RTCP packet types 192..223 collide with no RTP payload type
    // a muxing endpoint may use (those would be PT 64..95 with the marker bit set).
    const uint8_t second = data[1];
    if (second >= 192 && second <= 223) return PacketClass::rtcp;
    return PacketClass::rtp;
  }
  return PacketClass::unknown;
}

namespace {

// RFC 8285 section 4.2: one-byte elements. Id 15 ends the walk; id 0 is padding only when
// the whole byte is 0.
bool valid_one_byte_elements(const uint8_t* p, size_t size) {
  size_t i = 0;
  while (i < size) {
    const uint8_t b = p[i];
    if (b == 0) {
      ++i;
      continue;
    }
    const uint8_t id = b >> 4;
    if (id == 15) return true;
    if (id == 0) return false;  // id 0 with a length is not padding and not an element
    const size_t len = static_cast<size_t>(b & 0x0F) + 1;
    if (len > size - i - 1) return false;
    i += 1 + len;
  }
  return true;
}

// RFC 8285 section 4.3: two-byte elements (id, length, value); id 0 is a padding byte.
bool valid_two_byte_elements(const uint8_t* p, size_t size) {
  size_t i = 0;
  while (i < size) {
    if (p[i] == 0) {
      ++i;
      continue;
    }
    if (size - i < 2) return false;
    const size_t len = p[i + 1];
    if (len > size - i - 2) return false;
    i += 2 + len;
  }
  return true;
}

}  // namespace

bool RtpPacketView::parse(const uint8_t* data, size_t len, RtpPacketView& out) {
  if (data == nullptr || len < 12) return false;
  if ((data[0] >> 6) != 2) return false;
  size_t header = 12 + 4u * (data[0] & 0x0F);
  if (header > len) return false;

  const uint8_t* extension = nullptr;
  size_t extension_size = 0;
  uint16_t profile = 0;
  if ((data[0] & 0x10) != 0) {
    if (len - header < 4) return false;
    profile = load_be16(data + header);
    extension_size = 4u * load_be16(data + header + 2);
    if (len - header - 4 < extension_size) return false;
    extension = data + header + 4;
    if (profile == kOneByteExtensionProfile) {
      if (!valid_one_byte_elements(extension, extension_size)) return false;
    } else if ((profile & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile) {
      if (!valid_two_byte_elements(extension, extension_size)) return false;
    }
    header += 4 + extension_size;
  }

  uint8_t padding = 0;
  if ((data[0] & 0x20) != 0) {
    // RFC 3550 5.1: the last octet counts the padding, itself included, so 0 is a lie.
    padding = data[len - 1];
    if (padding == 0 || padding > len - header) return false;
  }

  out.data_ = data;
  out.size_ = len;
  out.extension_ = extension;
  out.extension_size_ = extension_size;
  out.extension_profile_ = profile;
  out.header_size_ = header;
  out.payload_size_ = len - header - padding;
  out.padding_size_ = padding;
  return true;
}

bool RtpPacketView::find_extension(uint8_t id, const uint8_t*& value, size_t& len) const {
  bool found = false;
  for_each_extension([&](uint8_t element_id, const uint8_t* element, size_t element_len) {
    if (found || element_id != id) return;
    value = element;
    len = element_len;
    found = true;
  });
  return found;
}

bool rtp_extension_equals(const RtpPacketView& rtp, uint8_t id, const char* value, size_t len) {
  const uint8_t* found = nullptr;
  size_t found_len = 0;
  if (id == 0 || !rtp.find_extension(id, found, found_len) || found_len != len) return false;
  for (size_t i = 0; i < len; ++i) {
    if (found[i] != static_cast<uint8_t>(value[i])) return false;
  }
  return true;
}

bool rtp_audio_level(const RtpPacketView& rtp, uint8_t id, uint8_t& level) {
  const uint8_t* found = nullptr;
  size_t found_len = 0;
  if (id == 0 || !rtp.find_extension(id, found, found_len) || found_len == 0) return false;
  level = found[0] & 0x7F;
  return true;
}

void write_rtp_fixed_header(uint8_t* out, bool marker, uint8_t payload_type, uint16_t sequence,
                            uint32_t timestamp, uint32_t ssrc) {
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7F));
  store_be16(out + 2, sequence);
  store_be32(out + 4, timestamp);
  store_be32(out + 8, ssrc);
}

bool RtpExtensionWriter::add(uint8_t id, const uint8_t* value, size_t len) {
  size_t element_header;
  if (two_byte_) {
    if (id == 0 || len > 255) return false;
    element_header = 2;
  } else {
    if (id == 0 || id > 14 || len == 0 || len > 16) return false;
    element_header = 1;
  }
  const size_t end = used_ + element_header + len;
  // finish() pads to a 32-bit boundary; reserve that now so finish() cannot overflow.
  if (out_ == nullptr || ((end + 3) & ~size_t{3}) > capacity_) return false;
  uint8_t* p = out_ + used_;
  if (two_byte_) {
    p[0] = id;
    p[1] = static_cast<uint8_t>(len);
  } else {
    p[0] = static_cast<uint8_t>((id << 4) | (len - 1));
  }
  for (size_t i = 0; i < len; ++i) p[element_header + i] = value[i];
  used_ = end;
  any_ = true;
  return true;
}

size_t RtpExtensionWriter::finish() {
  if (!any_) return 0;
  while ((used_ & 3) != 0) out_[used_++] = 0;
  store_be16(out_, two_byte_ ? kTwoByteExtensionProfile : kOneByteExtensionProfile);
  store_be16(out_ + 2, static_cast<uint16_t>((used_ - 4) / 4));
  return used_;
}

}  // namespace weir::wire
