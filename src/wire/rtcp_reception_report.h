// The 24-byte report block shared by sender and receiver reports (RFC 3550 6.4.1).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/byte_io.h"

namespace weir::wire {

constexpr size_t kRtcpReceptionReportSize = 24;

struct RtcpReceptionReport {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sender_report = 0;
  uint32_t delay_since_last_sender_report = 0;

  bool operator==(const RtcpReceptionReport&) const = default;
};

// p must hold kRtcpReceptionReportSize bytes.
inline RtcpReceptionReport read_reception_report(const uint8_t* p) {
  RtcpReceptionReport r;
  r.ssrc = load_be32(p);
  r.fraction_lost = p[4];
  const uint32_t lost = load_be24(p + 5);
  // Sign-extend the 24-bit count: duplicates can make it negative.
  r.cumulative_lost = (lost & 0x800000) != 0 ? static_cast<int32_t>(lost | 0xFF000000u)
                                             : static_cast<int32_t>(lost);
  r.extended_highest_sequence = load_be32(p + 8);
  r.jitter = load_be32(p + 12);
  r.last_sender_report = load_be32(p + 16);
  r.delay_since_last_sender_report = load_be32(p + 20);
  return r;
}

// Writes kRtcpReceptionReportSize bytes; cumulative_lost is clamped to 24 signed bits.
inline void write_reception_report(uint8_t* p, const RtcpReceptionReport& r) {
  int32_t lost = r.cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  store_be32(p, r.ssrc);
  p[4] = r.fraction_lost;
  store_be24(p + 5, static_cast<uint32_t>(lost) & 0xFFFFFF);
  store_be32(p + 8, r.extended_highest_sequence);
  store_be32(p + 12, r.jitter);
  store_be32(p + 16, r.last_sender_report);
  store_be32(p + 20, r.delay_since_last_sender_report);
}

}  // namespace weir::wire
