#include "wire/rtcp_full_intra_request.h"

namespace weir::wire {

bool RtcpFullIntraRequestView::parse(const uint8_t* data, size_t len, RtcpFullIntraRequestView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h)) return false;
  if (h.type != kRtcpTypePayloadFeedback || h.count != kPsfbFormatFir) return false;
  const size_t fixed_body = kFixedSize - kRtcpHeaderSize;
  const size_t body = h.body_size();
  if (body < fixed_body + 8 || (body - fixed_body) % 8 != 0) return false;
  out.data_ = data;
  out.entry_count_ = (body - fixed_body) / 8;
  return true;
}

size_t write_rtcp_full_intra_request(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                     std::span<const FirEntry> entries) {
  const size_t size = RtcpFullIntraRequestView::kFixedSize + 8 * entries.size();
  if (out == nullptr || entries.empty() || size > capacity || size > 4u * 0x10000) return 0;
  write_rtcp_header(out, false, kPsfbFormatFir, kRtcpTypePayloadFeedback, size);
  store_be32(out + 4, sender_ssrc);
  store_be32(out + 8, 0);
  uint8_t* p = out + RtcpFullIntraRequestView::kFixedSize;
  for (const FirEntry& e : entries) {
    store_be32(p, e.ssrc);
    p[4] = e.sequence_number;
    p[5] = p[6] = p[7] = 0;
    p += 8;
  }
  return size;
}

}  // namespace weir::wire
