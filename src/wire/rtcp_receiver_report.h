// RTCP receiver report (RFC 3550 6.4.2): reporter SSRC and report blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"
#include "wire/rtcp_reception_report.h"

namespace weir::wire {

class RtcpReceiverReportView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpReceiverReportView& out);

  uint32_t ssrc() const { return load_be32(data_ + 4); }
  uint8_t report_count() const { return report_count_; }
  RtcpReceptionReport report(uint8_t i) const {
    return read_reception_report(data_ + kFixedSize + kRtcpReceptionReportSize * i);
  }
  const uint8_t* profile_extension() const { return data_ + extension_offset_; }
  size_t profile_extension_size() const { return extension_size_; }

  static constexpr size_t kFixedSize = 8;  // header + reporter SSRC

 private:
  const uint8_t* data_ = nullptr;
  uint8_t report_count_ = 0;
  size_t extension_offset_ = 0;
  size_t extension_size_ = 0;
};

// Bytes written, or 0 if it does not fit capacity or more than 31 reports are given.
size_t write_rtcp_receiver_report(uint8_t* out, size_t capacity, uint32_t ssrc,
                                  std::span<const RtcpReceptionReport> reports);

}  // namespace weir::wire
