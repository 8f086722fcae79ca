#include "wire/rtcp_transport_layer_nack.h"

namespace weir::wire {

bool RtcpTransportLayerNackView::parse(const uint8_t* data, size_t len,
                                       RtcpTransportLayerNackView& out) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h)) return false;
  if (h.type != kRtcpTypeTransportFeedback || h.count != kRtpfbFormatNack) return false;
  const size_t body = h.body_size();
  // RFC 4585 6.2.1: at least one FCI entry.
  if (body < kFixedSize - kRtcpHeaderSize + 4) return false;
  out.data_ = data;
  out.pair_count_ = (body - (kFixedSize - kRtcpHeaderSize)) / 4;
  return true;
}

size_t RtcpTransportLayerNackView::lost_sequence_numbers(std::span<uint16_t> out) const {
  size_t n = 0;
  bool overflow = false;
  for_each_lost([&](uint16_t seq) {
    if (n < out.size()) out[n++] = seq;
    else overflow = true;
  });
  return overflow ? 0 : n;
}

size_t nack_pairs_from_sequence_numbers(std::span<const uint16_t> seqs, std::span<NackPair> out) {
  size_t n = 0;
  size_t i = 0;
  while (i < seqs.size()) {
    if (n == out.size()) return 0;
    NackPair pair{seqs[i], 0};
    ++i;
    while (i < seqs.size()) {
      const uint16_t diff = static_cast<uint16_t>(seqs[i] - pair.packet_id);
      if (diff == 0) {  // duplicate
        ++i;
        continue;
      }
      if (diff > 16) break;
      pair.lost_bitmask = static_cast<uint16_t>(pair.lost_bitmask | (1u << (diff - 1)));
      ++i;
    }
    out[n++] = pair;
  }
  return n;
}

size_t write_rtcp_transport_layer_nack(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                       uint32_t media_ssrc, std::span<const NackPair> pairs) {
  const size_t size = RtcpTransportLayerNackView::kFixedSize + 4 * pairs.size();
  if (out == nullptr || pairs.empty() || size > capacity || size > 4u * 0x10000) return 0;
  write_rtcp_header(out, false, kRtpfbFormatNack, kRtcpTypeTransportFeedback, size);
  store_be32(out + 4, sender_ssrc);
  store_be32(out + 8, media_ssrc);
  uint8_t* p = out + RtcpTransportLayerNackView::kFixedSize;
  for (const NackPair& pair : pairs) {
    store_be16(p, pair.packet_id);
    store_be16(p + 2, pair.lost_bitmask);
    p += 4;
  }
  return size;
}

}  // namespace weir::wire
