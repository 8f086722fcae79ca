// Transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01, section 3.1): RTPFB FMT 15.
// Parsed into a caller-provided array, one entry per reported packet; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"

namespace weir::wire {

struct TransportCcFeedback {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint16_t base_sequence = 0;
  uint16_t status_count = 0;    // packets reported, from base_sequence on
  uint32_t reference_time = 0;  // 24 bits, multiples of 64 ms
  uint8_t feedback_count = 0;   // fb pkt. count

  bool operator==(const TransportCcFeedback&) const = default;
};

struct TransportCcPacketStatus {
  uint16_t sequence = 0;
  bool received = false;
  // Arrival time minus the previous received packet's (the first: minus reference time),
  // in microseconds, a multiple of 250. 0 for packets not received.
  int32_t delta_us = 0;

  bool operator==(const TransportCcPacketStatus&) const = default;
};

constexpr int32_t kTransportCcDeltaTickUs = 250;
constexpr size_t kTransportCcFixedSize = 20;

// Parses the feedback at data. Fills out[0..count) with one status per reported packet.
// false if malformed (chunk or delta past the end, reserved symbol) or if out is too small.
bool parse_rtcp_transport_cc(const uint8_t* data, size_t len, TransportCcFeedback& feedback,
                             std::span<TransportCcPacketStatus> out, size_t& count);

// Writes feedback for statuses[i], which must have sequence feedback.base_sequence + i
// (feedback.status_count is ignored: statuses.size() is written). Deltas are rounded down to
// 250 us ticks: 0..255 ticks use a 1-byte delta, else 2 bytes signed. Chunks are
// run-length when a run covers the rest or 14+ packets, else 1-bit vectors (no large
// delta in the next 14) or 2-bit vectors. Bytes written, or 0 if it does not fit or a
// delta is out of the 16-bit tick range.
size_t write_rtcp_transport_cc(uint8_t* out, size_t capacity, const TransportCcFeedback& feedback,
                               std::span<const TransportCcPacketStatus> statuses);

}  // namespace weir::wire
