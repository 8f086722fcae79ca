// Picture loss indication (RFC 4585 6.3.1): PSFB FMT 1 with no FCI.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/rtcp_header.h"

namespace weir::wire {

class RtcpPictureLossIndicationView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpPictureLossIndicationView& out);

  uint32_t sender_ssrc() const { return load_be32(data_ + 4); }
  uint32_t media_ssrc() const { return load_be32(data_ + 8); }

  static constexpr size_t kSize = 12;

 private:
  const uint8_t* data_ = nullptr;
};

// Writes the 12-byte PLI; 0 if capacity is smaller.
size_t write_rtcp_picture_loss_indication(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                          uint32_t media_ssrc);

}  // namespace weir::wire
