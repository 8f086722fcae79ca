#include "wire/rtcp_picture_loss_indication.h"

namespace weir::wire {

bool RtcpPictureLossIndicationView::parse(const uint8_t* data, size_t len,
                                          RtcpPictureLossIndicationView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h)) return false;
  if (h.type != kRtcpTypePayloadFeedback || h.count != kPsfbFormatPli) return false;
  if (h.body_size() < kSize - kRtcpHeaderSize) return false;
  out.data_ = data;
  return true;
}

size_t write_rtcp_picture_loss_indication(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                          uint32_t media_ssrc) {
  constexpr size_t size = RtcpPictureLossIndicationView::kSize;
  if (out == nullptr || capacity < size) return 0;
  write_rtcp_header(out, false, kPsfbFormatPli, kRtcpTypePayloadFeedback, size);
  store_be32(out + 4, sender_ssrc);
  store_be32(out + 8, media_ssrc);
  return size;
}

}  // namespace weir::wire
