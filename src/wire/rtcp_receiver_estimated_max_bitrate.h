// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03): PSFB FMT 15 with
// the 'REMB' identifier, a 6-bit exponent and 18-bit mantissa, and the SSRCs it covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"

namespace weir::wire {

class RtcpReceiverEstimatedMaxBitrateView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpReceiverEstimatedMaxBitrateView& out);

  uint32_t sender_ssrc() const { return load_be32(data_ + 4); }
  // mantissa * 2^exp; saturates at UINT64_MAX (exp can reach 63).
  uint64_t bitrate_bps() const;
  uint8_t ssrc_count() const { return data_[kFixedSize]; }
  uint32_t ssrc(uint8_t i) const { return load_be32(data_ + kFixedSize + 4 + 4u * i); }

  static constexpr size_t kFixedSize = 16;  // header, sender, media (0), 'REMB'

 private:
  const uint8_t* data_ = nullptr;
};

// Encodes bitrate_bps with the smallest exponent whose mantissa fits 18 bits (truncating
// the low bits). Bytes written, or 0 if it does not fit capacity or > 255 SSRCs.
size_t write_rtcp_receiver_estimated_max_bitrate(uint8_t* out, size_t capacity,
                                                 uint32_t sender_ssrc, uint64_t bitrate_bps,
                                                 std::span<const uint32_t> ssrcs);

}  // namespace weir::wire
