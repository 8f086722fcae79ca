// What weir tells a producer's endpoint it may send, by REMB
// (draft-alvestrand-rmcat-remb-03), when the endpoint negotiated goog-remb but not
// transport-cc (aiortc, older browsers): the bitrate that really arrived over the last
// report interval and the loss weir's receiver reports saw, through the loss-based rule
// of loss_based_bitrate.h, capped by the transport's maximum incoming bitrate. With
// transport-cc the endpoint estimates by itself from weir's feedback instead.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weir::dp {

class ReceiveSideBandwidthEstimator {
 public:
  explicit ReceiveSideBandwidthEstimator(uint64_t initial_bps = 1'000'000,
                                         uint64_t max_bps = 10'000'000)
      : estimate_bps_(initial_bps), max_bps_(max_bps) {}

  void on_packet(size_t bytes) { bytes_ += bytes; }
  // About once a second: the incoming bitrate since the last call and fraction_lost (of
  // 256, as in the receiver report just sent) give the new estimate, which it returns.
  uint64_t update(uint64_t now_ns, uint8_t fraction_lost);
  uint64_t estimate_bps() const { return estimate_bps_; }
  uint64_t incoming_bps() const { return incoming_bps_; }

 private:
  uint64_t estimate_bps_;
  uint64_t max_bps_;
  uint64_t bytes_ = 0;
  uint64_t last_update_ns_ = 0;
  uint64_t incoming_bps_ = 0;
};

}  // namespace weir::dp
