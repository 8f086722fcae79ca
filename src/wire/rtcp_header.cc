#include "wire/rtcp_header.h"

namespace weir::wire {

bool parse_rtcp_header(const uint8_t* data, size_t len, RtcpHeader& out) {
  if (data == nullptr || len < kRtcpHeaderSize) return false;
  if ((data[0] >> 6) != 2) return false;
  const size_t size = kRtcpHeaderSize + 4u * load_be16(data + 2);
  if (size > len) return false;
  const bool padding = (data[0] & 0x20) != 0;
  size_t padding_size = 0;
  if (padding) {
    // RFC 3550 6.4.1: the last octet counts the padding, itself included.
    padding_size = data[size - 1];
    if (size == kRtcpHeaderSize || padding_size == 0 || padding_size > size - kRtcpHeaderSize)
      return false;
  }
  out.padding = padding;
  out.count = data[0] & 0x1F;
  out.type = data[1];
  out.size = size;
  out.padding_size = padding_size;
  return true;
}

void write_rtcp_header(uint8_t* out, bool padding, uint8_t count, uint8_t type, size_t size) {
  out[0] = static_cast<uint8_t>(0x80 | (padding ? 0x20 : 0) | (count & 0x1F));
  out[1] = type;
  store_be16(out + 2, static_cast<uint16_t>(size / 4 - 1));
}

bool RtcpCompoundView::parse(const uint8_t* data, size_t len, RtcpCompoundView& out) {
  if (data == nullptr || len == 0) return false;
  size_t off = 0;
  size_t count = 0;
  while (off < len) {
    RtcpHeader h;
    if (!parse_rtcp_header(data + off, len - off, h)) return false;
    // RFC 5761 section 4: anything outside 192..223 is not RTCP on a muxed port.
    if (h.type < 192 || h.type > 223) return false;
    off += h.size;
    ++count;
  }
  out.data_ = data;
  out.size_ = len;
  out.packet_count_ = count;
  return true;
}

}  // namespace weir::wire
