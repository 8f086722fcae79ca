#include "wire/rtcp_sdes.h"

namespace weir::wire {

bool RtcpSdesView::parse(const uint8_t* data, size_t len, RtcpSdesView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h) || h.type != kRtcpTypeSourceDescription) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  size_t off = kRtcpHeaderSize;
  for (uint8_t c = 0; c < h.count; ++c) {
    if (end - off < 4) return false;
    off += 4;
    for (;;) {
      if (off >= end) return false;  // no END octet
      if (data[off] == kSdesEnd) break;
      if (end - off < 2) return false;
      const size_t item_len = data[off + 1];
      if (item_len > end - off - 2) return false;
      off += 2 + item_len;
    }
    off = (off + 4) & ~size_t{3};
    if (off > end) return false;
  }
  out.data_ = data;
  out.chunk_count_ = h.count;
  return true;
}

bool RtcpSdesView::first_cname(uint32_t& ssrc, std::string_view& cname) const {
  bool found = false;
  for_each_item([&](uint32_t item_ssrc, uint8_t type, std::string_view text) {
    if (found || type != kSdesCname) return;
    ssrc = item_ssrc;
    cname = text;
    found = true;
  });
  return found;
}

size_t write_rtcp_sdes(uint8_t* out, size_t capacity, std::span<const RtcpSdesChunk> chunks) {
  if (chunks.size() > kRtcpMaxCount || out == nullptr) return 0;
  size_t size = kRtcpHeaderSize;
  for (const RtcpSdesChunk& c : chunks) {
    size_t chunk = 4;
    for (const RtcpSdesItem& item : c.items) {
      if (item.type == kSdesEnd || item.text.size() > 255) return 0;
      chunk += 2 + item.text.size();
    }
    size += (chunk + 4) & ~size_t{3};  // END octet + padding to 32 bits
  }
  if (size > capacity || size > 4u * 0x10000) return 0;
  write_rtcp_header(out, false, static_cast<uint8_t>(chunks.size()), kRtcpTypeSourceDescription, size);
  size_t off = kRtcpHeaderSize;
  for (const RtcpSdesChunk& c : chunks) {
    store_be32(out + off, c.ssrc);
    off += 4;
    for (const RtcpSdesItem& item : c.items) {
      out[off] = item.type;
      out[off + 1] = static_cast<uint8_t>(item.text.size());
      for (size_t i = 0; i < item.text.size(); ++i) out[off + 2 + i] = static_cast<uint8_t>(item.text[i]);
      off += 2 + item.text.size();
    }
    const size_t next = (off + 4) & ~size_t{3};
    while (off < next) out[off++] = 0;
  }
  return size;
}

size_t write_rtcp_sdes_cname(uint8_t* out, size_t capacity, uint32_t ssrc, std::string_view cname) {
  const RtcpSdesItem item{kSdesCname, cname};
  const RtcpSdesChunk chunk{ssrc, std::span<const RtcpSdesItem>(&item, 1)};
  return write_rtcp_sdes(out, capacity, std::span<const RtcpSdesChunk>(&chunk, 1));
}

}  // namespace weir::wire
