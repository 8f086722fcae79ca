#include "dataplane/rtp_receive_stats.h"

#include <cstdlib>
#include <limits>

namespace weir::dp {

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000ull;
// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
constexpr uint64_t kNtpUnixOffsetSeconds = 2'208'988'800ull;
// A forward jump this large is a sender restart, not network jitter: its transit time
// starts over instead of feeding one huge difference into the estimate.
constexpr uint16_t kJitterRestartGap = 3000;

}  // namespace

// ---------------------------------------------------------------------------------------
// Sequence bookkeeping (RFC 3550 A.1, without the probation of new sources)

uint16_t SequenceTracker::update(uint16_t seq) {
  ++received;
  if (!started) {
    started = true;
    max_seq = seq;
    base_seq = seq;
    return 0;
  }
  const auto delta = static_cast<uint16_t>(seq - max_seq);
  if (delta == 0 || delta >= 0x8000) return 0;  // duplicate or older than the maximum
  if (seq < max_seq) cycles += 0x10000;         // wrapped
  max_seq = seq;
  return static_cast<uint16_t>(delta - 1);
}

uint64_t SequenceTracker::lost() const {
  if (!started) return 0;
  const uint64_t expected = extended_max() - base_seq + 1;
  return expected > received ? expected - received : 0;
}

// ---------------------------------------------------------------------------------------
// Receiver statistics

uint16_t RtpReceiveStats::on_packet(uint16_t seq, uint32_t rtp_timestamp, uint64_t arrival_ns) {
  const uint16_t gap = sequence_.update(seq);

  // Whole seconds and the remainder apart: arrival_ns * 90000 would overflow 64 bits after
  // ~2.3 days of uptime. The sum is exactly floor(arrival_ns * clock_rate / 1e9).
  const uint64_t arrival_rtp64 = arrival_ns / kNsPerSecond * clock_rate_ +
                                 arrival_ns % kNsPerSecond * clock_rate_ / kNsPerSecond;
  const auto arrival_rtp = static_cast<uint32_t>(arrival_rtp64);
  // Both clocks wrap at 32 bits; only differences of transit times mean anything.
  const uint32_t transit = arrival_rtp - rtp_timestamp;
  if (!have_transit_ || gap > kJitterRestartGap) {
    have_transit_ = true;
    last_transit_ = transit;
    return gap;
  }
  const int32_t diff = static_cast<int32_t>(transit - static_cast<uint32_t>(last_transit_));
  last_transit_ = transit;
  const auto d = static_cast<uint64_t>(std::abs(static_cast<int64_t>(diff)));
  // RFC 3550 A.8 verbatim (jitter kept times 16, rounded), widened so that a wild
  // timestamp cannot wrap the estimate around to a small value.
  const uint64_t next = uint64_t{jitter_q4_} + d - ((uint64_t{jitter_q4_} + 8) >> 4);
  jitter_q4_ = next > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                           : static_cast<uint32_t>(next);
  return gap;
}

void RtpReceiveStats::on_sender_report(uint64_t ntp, uint64_t arrival_ns) {
  last_sr_middle_ = ntp_middle32(ntp);
  // 0 marks "no SR yet"; a report at exactly 0 ns is moved a nanosecond later.
  last_sr_arrival_ns_ = arrival_ns == 0 ? 1 : arrival_ns;
}

wire::RtcpReceptionReport RtpReceiveStats::make_report(uint32_t ssrc, uint64_t now_ns) {
  wire::RtcpReceptionReport r;
  r.ssrc = ssrc;

  const uint64_t expected =
      sequence_.started ? sequence_.extended_max() - sequence_.base_seq + 1 : 0;
  const uint64_t received = sequence_.received;

  // RFC 3550 A.3: the fraction covers only the interval since the previous report.
  const auto expected_interval = static_cast<int64_t>(expected - expected_prior_);
  const auto received_interval = static_cast<int64_t>(received - received_prior_);
  expected_prior_ = expected;
  received_prior_ = received;
  const int64_t lost_interval = expected_interval - received_interval;
  if (expected_interval > 0 && lost_interval > 0) {
    const int64_t fraction = (lost_interval << 8) / expected_interval;
    r.fraction_lost = static_cast<uint8_t>(fraction > 255 ? 255 : fraction);
  }

  // Duplicates can make it negative; the wire writer clamps it to its 24 bits.
  int64_t cumulative = static_cast<int64_t>(expected) - static_cast<int64_t>(received);
  if (cumulative > std::numeric_limits<int32_t>::max())
    cumulative = std::numeric_limits<int32_t>::max();
  if (cumulative < std::numeric_limits<int32_t>::min())
    cumulative = std::numeric_limits<int32_t>::min();
  r.cumulative_lost = static_cast<int32_t>(cumulative);
  r.extended_highest_sequence = static_cast<uint32_t>(sequence_.extended_max());
  r.jitter = jitter();

  if (last_sr_arrival_ns_ != 0) {
    r.last_sender_report = last_sr_middle_;
    if (now_ns > last_sr_arrival_ns_) {
      // Split so that a delay of days cannot overflow the multiplication.
      const uint64_t delay = now_ns - last_sr_arrival_ns_;
      const uint64_t units =
          delay / kNsPerSecond * 65536 + delay % kNsPerSecond * 65536 / kNsPerSecond;
      r.delay_since_last_sender_report = units > std::numeric_limits<uint32_t>::max()
                                             ? std::numeric_limits<uint32_t>::max()
                                             : static_cast<uint32_t>(units);
    }
  }
  return r;
}

uint64_t ntp_from_unix_ns(uint64_t unix_ns) {
  const uint64_t seconds = unix_ns / kNsPerSecond + kNtpUnixOffsetSeconds;
  // The remainder is below 2^30, so shifting it by 32 cannot overflow.
  const uint64_t fraction = ((unix_ns % kNsPerSecond) << 32) / kNsPerSecond;
  return (seconds << 32) | fraction;
}

}  // namespace weir::dp
