// What a receiver reports about one RTP stream it receives (RFC 3550 6.4 and appendix
// A.1, A.3, A.8): the extended highest sequence number, cumulative and interval loss,
// interarrival jitter, and the last sender report for LSR/DLSR. Updated per packet on the
// worker with a few integer operations; no allocation.
#pragma once

#include <cstdint>

#include "wire/rtcp_reception_report.h"

namespace weir::dp {

// RFC 3550 appendix A.1 bookkeeping: sequence number cycles and the received count.
struct SequenceTracker {
  bool started = false;
  uint16_t max_seq = 0;
  uint32_t cycles = 0;
  uint32_t base_seq = 0;
  uint64_t received = 0;

  // Returns how many sequence numbers were skipped (seq - max_seq - 1) when seq moves the
  // maximum forward, 0 otherwise (in order, reordered, duplicate, or the first packet).
  uint16_t update(uint16_t seq);
  uint64_t extended_max() const { return cycles + max_seq; }
  uint64_t lost() const;
};

class RtpReceiveStats {
 public:
  explicit RtpReceiveStats(uint32_t clock_rate = 90000) : clock_rate_(clock_rate) {}

  // One packet; arrival_ns on the worker's monotonic clock. Returns the gap (see
  // SequenceTracker::update) so that the caller can NACK what is missing.
  uint16_t on_packet(uint16_t seq, uint32_t rtp_timestamp, uint64_t arrival_ns);
  // A sender report for this stream arrived at arrival_ns: ntp is its 64-bit NTP time.
  void on_sender_report(uint64_t ntp, uint64_t arrival_ns);

  // The report block for this stream as of now_ns; advances the interval that
  // fraction_lost covers (RFC 3550 A.3), so call it once per report sent.
  wire::RtcpReceptionReport make_report(uint32_t ssrc, uint64_t now_ns);

  const SequenceTracker& sequence() const { return sequence_; }
  uint32_t jitter() const { return jitter_q4_ >> 4; }  // in RTP timestamp units
  uint64_t received() const { return sequence_.received; }

 private:
  uint32_t clock_rate_;
  SequenceTracker sequence_;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  bool have_transit_ = false;
  int64_t last_transit_ = 0;
  uint32_t jitter_q4_ = 0;           // jitter * 16 (RFC 3550 A.8 fixed point)
  uint32_t last_sr_middle_ = 0;      // middle 32 bits of the last SR's NTP time
  uint64_t last_sr_arrival_ns_ = 0;  // 0: no SR yet
};

// NTP time (RFC 5905: seconds since 1900 in the high 32 bits, fraction in the low) for a
// CLOCK_REALTIME reading, and its middle 32 bits as LSR/DLSR fields use them.
uint64_t ntp_from_unix_ns(uint64_t unix_ns);
inline uint32_t ntp_middle32(uint64_t ntp) { return static_cast<uint32_t>(ntp >> 16); }

}  // namespace weir::dp
