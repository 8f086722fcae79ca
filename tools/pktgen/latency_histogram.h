// One-way latency in microseconds, recorded per packet into a fixed log-linear histogram:
// exact below 128 µs, then 64 buckets per power of two (under 1.6 % relative error), so
// recording is an index computation and an increment: no allocation, no sorting.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace weir::pktgen {

class LatencyHistogram {
 public:
  static constexpr int kExactBits = 7;  // values below 128 have their own bucket
  static constexpr uint64_t kExact = 1u << kExactBits;
  static constexpr uint64_t kSubBuckets = kExact / 2;  // per power of two above that
  static constexpr int kMaxBit = 40;                   // ~12 days in µs: clamps anything larger
  static constexpr size_t kBuckets = kExact + (kMaxBit - kExactBits + 1) * kSubBuckets;

  static size_t index_of(uint64_t v) {
    if (v < kExact) return static_cast<size_t>(v);
    int msb = 63 - std::countl_zero(v);
    if (msb > kMaxBit) {
      msb = kMaxBit;
      v = (uint64_t{1} << (kMaxBit + 1)) - 1;
    }
    const int shift = msb - (kExactBits - 1);  // keeps 7 significant bits: [64, 127]
    const uint64_t sub = (v >> shift) - kSubBuckets;
    return static_cast<size_t>(kExact + static_cast<uint64_t>(shift - 1) * kSubBuckets + sub);
  }
  // The smallest value that falls into bucket i.
  static uint64_t lower_bound_of(size_t i) {
    if (i < kExact) return i;
    const uint64_t shift = (i - kExact) / kSubBuckets + 1;
    const uint64_t sub = (i - kExact) % kSubBuckets + kSubBuckets;
    return sub << shift;
  }

  void record(uint64_t value_us) {
    ++buckets_[index_of(value_us)];
    ++count_;
  }
  uint64_t count() const { return count_; }

  // The value at quantile q (0..1): the lower bound of the bucket holding the
  // ceil(q*count)-th smallest sample; 0 when empty.
  uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= rank) return lower_bound_of(i);
    }
    return lower_bound_of(kBuckets - 1);
  }

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
};

}  // namespace weir::pktgen
