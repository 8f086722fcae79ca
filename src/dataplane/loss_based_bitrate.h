// The loss-based rule both of weir's bandwidth estimates follow (draft-ietf-rmcat-gcc-02
// section 6), on the send side from transport-cc feedback and on the receive side for
// the REMB it gives producers without transport-cc:
//   loss > 10 %  : estimate *= 1 - loss / 2
//   loss < 2 %   : estimate *= 1.08, but growth stops at 1.5 x delivered + 100 kbps; an
//                  estimate already above that holds (the sender may simply be sending
//                  less than the path carries), it is not pulled down to it
//   otherwise    : hold
// and never below 50 kbps: below that nothing useful can be sent, and the floor keeps
// probing possible.
#pragma once

#include <algorithm>
#include <cstdint>

namespace weir::dp {

constexpr uint64_t kMinimumEstimateBps = 50'000;

inline uint64_t next_loss_based_estimate(uint64_t estimate_bps, uint64_t delivered_bps,
                                         double loss) {
  constexpr uint64_t kGrowthAllowanceBps = 100'000;  // lets a low start grow at all
  if (loss > 0.10) {
    estimate_bps = static_cast<uint64_t>(static_cast<double>(estimate_bps) * (1.0 - 0.5 * loss));
  } else if (loss < 0.02) {
    const uint64_t cap = delivered_bps * 3 / 2 + kGrowthAllowanceBps;
    uint64_t grown = estimate_bps * 108 / 100;
    if (grown > cap) grown = std::max(estimate_bps, cap);
    estimate_bps = grown;
  }
  return std::max(estimate_bps, kMinimumEstimateBps);
}

}  // namespace weir::dp
