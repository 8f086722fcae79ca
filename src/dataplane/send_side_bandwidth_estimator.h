// The sending side of transport-wide congestion control for one consumer transport: it
// numbers the packets weir sends there (the transport-wide sequence number extension),
// remembers when and how big each was, and turns the endpoint's transport-cc feedback
// into an estimate of the bitrate the path to it can carry, loss-based in the manner of
// GCC (RFC 8698 is not it; draft-ietf-rmcat-gcc-02 section 6): loss above 10 % cuts the
// estimate, loss below 2 % lets it grow by 8 % per feedback, bounded by what was really
// delivered; a REMB from the endpoint caps it. No allocation after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_transport_layer_cc.h"

namespace weir::dp {

class SendSideBandwidthEstimator {
 public:
  // Packets remembered for feedback matching: feedback comes every ~100 ms, so a second
  // of a busy transport's packets is plenty, and 16 KiB per transport is what it costs.
  static constexpr size_t kHistory = 1024;

  explicit SendSideBandwidthEstimator(uint64_t initial_bps = 600'000)
      : estimate_bps_(initial_bps) {}

  // The transport-wide sequence number for the next packet sent, recorded with its size.
  uint16_t on_send(size_t bytes, uint64_t now_ns);
  // Feedback from the endpoint: statuses as parsed by wire::parse_rtcp_transport_cc.
  void on_feedback(const wire::TransportCcFeedback& feedback,
                   std::span<const wire::TransportCcPacketStatus> statuses, uint64_t now_ns);
  // The endpoint's REMB (bits per second).
  void on_remb(uint64_t bps);

  uint64_t available_bitrate_bps() const { return estimate_bps_; }
  uint64_t delivered_bitrate_bps() const { return delivered_bps_; }
  double last_loss_fraction() const { return loss_; }
  uint64_t feedbacks() const { return feedbacks_; }

 private:
  struct Sent {
    uint16_t seq = 0;
    uint16_t bytes = 0;
    uint64_t sent_ns = 0;  // 0: nothing recorded here
  };
  uint16_t next_seq_ = 1;
  std::array<Sent, kHistory> history_{};
  uint64_t estimate_bps_;
  uint64_t delivered_bps_ = 0;
  uint64_t remb_bps_ = 0;  // 0: none received
  double loss_ = 0;
  uint64_t feedbacks_ = 0;
};

}  // namespace weir::dp
