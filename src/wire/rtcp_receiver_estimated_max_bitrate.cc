#include "wire/rtcp_receiver_estimated_max_bitrate.h"

namespace weir::wire {

namespace {
constexpr uint8_t kRembIdentifier[4] = {'R', 'E', 'M', 'B'};
constexpr uint32_t kMaxMantissa = 0x3FFFF;
}  // namespace

bool RtcpReceiverEstimatedMaxBitrateView::parse(const uint8_t* data, size_t len,
                                                RtcpReceiverEstimatedMaxBitrateView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h)) return false;
  if (h.type != kRtcpTypePayloadFeedback || h.count != kPsfbFormatApplicationLayer) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  if (end < kFixedSize + 4) return false;
  for (size_t i = 0; i < 4; ++i)
    if (data[12 + i] != kRembIdentifier[i]) return false;
  const size_t ssrc_count = data[kFixedSize];
  if (kFixedSize + 4 + 4 * ssrc_count > end) return false;
  out.data_ = data;
  return true;
}

uint64_t RtcpReceiverEstimatedMaxBitrateView::bitrate_bps() const {
  const uint8_t exp = data_[kFixedSize + 1] >> 2;
  const uint64_t mantissa = load_be24(data_ + kFixedSize + 1) & kMaxMantissa;
  // 18-bit mantissa shifted by up to 63 overflows 64 bits from exp 47 on.
  if (mantissa != 0 && exp > 0 && (mantissa >> (64 - exp)) != 0) return UINT64_MAX;
  return mantissa << exp;
}

size_t write_rtcp_receiver_estimated_max_bitrate(uint8_t* out, size_t capacity,
                                                 uint32_t sender_ssrc, uint64_t bitrate_bps,
                                                 std::span<const uint32_t> ssrcs) {
  if (ssrcs.size() > 255) return 0;
  const size_t size = RtcpReceiverEstimatedMaxBitrateView::kFixedSize + 4 + 4 * ssrcs.size();
  if (out == nullptr || size > capacity) return 0;
  uint8_t exp = 0;
  while ((bitrate_bps >> exp) > kMaxMantissa) ++exp;
  const uint32_t mantissa = static_cast<uint32_t>(bitrate_bps >> exp);
  write_rtcp_header(out, false, kPsfbFormatApplicationLayer, kRtcpTypePayloadFeedback, size);
  store_be32(out + 4, sender_ssrc);
  store_be32(out + 8, 0);
  for (size_t i = 0; i < 4; ++i) out[12 + i] = kRembIdentifier[i];
  uint8_t* p = out + RtcpReceiverEstimatedMaxBitrateView::kFixedSize;
  p[0] = static_cast<uint8_t>(ssrcs.size());
  store_be24(p + 1, (static_cast<uint32_t>(exp) << 18) | mantissa);
  p += 4;
  for (uint32_t s : ssrcs) {
    store_be32(p, s);
    p += 4;
  }
  return size;
}

}  // namespace weir::wire
