#include "wire/rtcp_bye.h"

namespace weir::wire {

bool RtcpByeView::parse(const uint8_t* data, size_t len, RtcpByeView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h) || h.type != kRtcpTypeGoodbye) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  const size_t sources_end = kRtcpHeaderSize + 4u * h.count;
  if (sources_end > end) return false;
  std::string_view reason;
  if (sources_end < end) {
    const size_t reason_len = data[sources_end];
    if (reason_len > end - sources_end - 1) return false;
    reason = std::string_view(reinterpret_cast<const char*>(data + sources_end + 1), reason_len);
  }
  out.data_ = data;
  out.source_count_ = h.count;
  out.reason_ = reason;
  return true;
}

size_t write_rtcp_bye(uint8_t* out, size_t capacity, std::span<const uint32_t> sources,
                      std::string_view reason) {
  if (sources.size() > kRtcpMaxCount || reason.size() > 255 || out == nullptr) return 0;
  size_t size = kRtcpHeaderSize + 4 * sources.size();
  if (!reason.empty()) size += (1 + reason.size() + 3) & ~size_t{3};
  if (size > capacity) return 0;
  write_rtcp_header(out, false, static_cast<uint8_t>(sources.size()), kRtcpTypeGoodbye, size);
  size_t off = kRtcpHeaderSize;
  for (uint32_t s : sources) {
    store_be32(out + off, s);
    off += 4;
  }
  if (!reason.empty()) {
    out[off++] = static_cast<uint8_t>(reason.size());
    for (char c : reason) out[off++] = static_cast<uint8_t>(c);
    while (off < size) out[off++] = 0;
  }
  return size;
}

}  // namespace weir::wire
