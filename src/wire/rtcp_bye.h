// RTCP BYE (RFC 3550 6.6): the sources leaving, and an optional reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wire/rtcp_header.h"

namespace weir::wire {

class RtcpByeView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpByeView& out);

  uint8_t source_count() const { return source_count_; }
  uint32_t source(uint8_t i) const { return load_be32(data_ + kRtcpHeaderSize + 4u * i); }
  std::string_view reason() const { return reason_; }

 private:
  const uint8_t* data_ = nullptr;
  uint8_t source_count_ = 0;
  std::string_view reason_;
};

// Bytes written, or 0 if it does not fit, > 31 sources or a reason over 255 bytes.
size_t write_rtcp_bye(uint8_t* out, size_t capacity, std::span<const uint32_t> sources,
                      std::string_view reason = {});

}  // namespace weir::wire
