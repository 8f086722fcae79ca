// RTCP sender report (RFC 3550 6.4.1): sender info, report blocks, profile extension.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"
#include "wire/rtcp_reception_report.h"

namespace weir::wire {

struct RtcpSenderInfo {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;

  bool operator==(const RtcpSenderInfo&) const = default;
};

class RtcpSenderReportView {
 public:
  // data starts at the SR's header; len may run past the packet (e.g. rest of a compound).
  static bool parse(const uint8_t* data, size_t len, RtcpSenderReportView& out);

  RtcpSenderInfo sender_info() const;
  uint32_t ssrc() const { return load_be32(data_ + 4); }
  uint8_t report_count() const { return report_count_; }
  RtcpReceptionReport report(uint8_t i) const {
    return read_reception_report(data_ + kFixedSize + kRtcpReceptionReportSize * i);
  }
  // Profile-specific extension bytes after the report blocks (may be empty).
  const uint8_t* profile_extension() const { return data_ + extension_offset_; }
  size_t profile_extension_size() const { return extension_size_; }

  static constexpr size_t kFixedSize = 28;  // header + SSRC + 20 bytes sender info

 private:
  const uint8_t* data_ = nullptr;
  uint8_t report_count_ = 0;
  size_t extension_offset_ = 0;
  size_t extension_size_ = 0;
};

// Bytes written, or 0 if it does not fit capacity or more than 31 reports are given.
size_t write_rtcp_sender_report(uint8_t* out, size_t capacity, const RtcpSenderInfo& info,
                                std::span<const RtcpReceptionReport> reports);

}  // namespace weir::wire
