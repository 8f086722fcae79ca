// Sequence continuity of one consumer's RTP stream as received. The SFU rewrites sequence
// numbers per consumer, so a consumer's packets must arrive numbered n, n+1, n+2...; a
// jump forward is a gap (its size is the missing count), anything not newer than the
// highest seen so far is a reorder or duplicate.
#pragma once

#include <cstdint>

namespace weir::pktgen {

class SequenceTracker {
 public:
  enum class Verdict : uint8_t { first, in_order, gap, late };

  // ext_seq: this packet's sequence number extended to 64 bits, placed within 2^15 of the
  // highest one seen (so that wrap-arounds of the 16-bit number are followed).
  Verdict on_packet(uint16_t seq, uint64_t& ext_seq) {
    if (!started_) {
      started_ = true;
      highest_ = (uint64_t{1} << 32) + seq;  // room below for late packets from before
      ext_seq = highest_;
      return Verdict::first;
    }
    const int16_t delta =
        static_cast<int16_t>(static_cast<uint16_t>(seq - static_cast<uint16_t>(highest_)));
    ext_seq = static_cast<uint64_t>(static_cast<int64_t>(highest_) + delta);
    if (delta == 1) {
      highest_ = ext_seq;
      return Verdict::in_order;
    }
    if (delta > 1) {
      ++gaps_;
      missing_ += static_cast<uint64_t>(delta - 1);
      highest_ = ext_seq;
      return Verdict::gap;
    }
    ++late_;
    return Verdict::late;
  }

  bool started() const { return started_; }
  // The highest extended sequence number so far; its low 32 bits are what an RTCP report
  // block calls the extended highest sequence number (RFC 3550 6.4.1).
  uint64_t highest() const { return highest_; }
  uint64_t gaps() const { return gaps_; }
  uint64_t missing() const { return missing_; }
  uint64_t late() const { return late_; }

 private:
  bool started_ = false;
  uint64_t highest_ = 0;
  uint64_t gaps_ = 0;
  uint64_t missing_ = 0;
  uint64_t late_ = 0;
};

}  // namespace weir::pktgen
