#include "dataplane/receive_side_bandwidth_estimator.h"

#include <algorithm>

#include "dataplane/loss_based_bitrate.h"

namespace weir::dp {

uint64_t ReceiveSideBandwidthEstimator::update(uint64_t now_ns, uint8_t fraction_lost) {
  if (last_update_ns_ == 0 || now_ns <= last_update_ns_) {
    // The first call only starts the measurement: the initial estimate is advertised.
    last_update_ns_ = now_ns;
    bytes_ = 0;
    return estimate_bps_;
  }
  const uint64_t elapsed_ns = now_ns - last_update_ns_;
  incoming_bps_ = bytes_ * 8 * 1'000'000'000ull / elapsed_ns;
  bytes_ = 0;
  last_update_ns_ = now_ns;
  const double loss = static_cast<double>(fraction_lost) / 256.0;
  estimate_bps_ = std::min(next_loss_based_estimate(estimate_bps_, incoming_bps_, loss), max_bps_);
  return estimate_bps_;
}

}  // namespace weir::dp
