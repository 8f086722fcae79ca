// Full intra request (RFC 5104 4.3.1): PSFB FMT 4, FCI entries of SSRC + sequence number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"

namespace weir::wire {

struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t sequence_number = 0;

  bool operator==(const FirEntry&) const = default;
};

class RtcpFullIntraRequestView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpFullIntraRequestView& out);

  uint32_t sender_ssrc() const { return load_be32(data_ + 4); }
  uint32_t media_ssrc() const { return load_be32(data_ + 8); }  // RFC 5104: set to 0
  size_t entry_count() const { return entry_count_; }
  FirEntry entry(size_t i) const {
    const uint8_t* p = data_ + kFixedSize + 8 * i;
    return FirEntry{load_be32(p), p[4]};
  }

  static constexpr size_t kFixedSize = 12;

 private:
  const uint8_t* data_ = nullptr;
  size_t entry_count_ = 0;
};

// Bytes written, or 0 if it does not fit capacity (or no entries are given).
size_t write_rtcp_full_intra_request(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                     std::span<const FirEntry> entries);

}  // namespace weir::wire
