#include "dataplane/send_side_bandwidth_estimator.h"

#include <algorithm>
#include <limits>

#include "dataplane/loss_based_bitrate.h"

namespace weir::dp {

// Per feedback, loss = lost / (received + lost) among the packets it reports that this
// side remembers sending, and the rule of loss_based_bitrate.h; then the REMB, if any,
// caps it (never below the floor). Delivered = bytes received * 8 / the span of their
// arrival times, or of their send times when arrivals span under 20 ms (a burst says
// little about the path rate), with the span taken as at least 20 ms.

namespace {

constexpr int64_t kMinSpanUs = 20'000;

}  // namespace

uint16_t SendSideBandwidthEstimator::on_send(size_t bytes, uint64_t now_ns) {
  const uint16_t seq = next_seq_++;
  // kHistory divides 65536, so a slot maps to the same sequence numbers across the wrap.
  history_[seq % kHistory] =
      Sent{seq, static_cast<uint16_t>(std::min<size_t>(bytes, 0xFFFF)), now_ns};
  return seq;
}

void SendSideBandwidthEstimator::on_feedback(
    const wire::TransportCcFeedback& feedback,
    std::span<const wire::TransportCcPacketStatus> statuses, uint64_t now_ns) {
  (void)feedback;  // statuses carry the sequence numbers; reference time cancels in spans
  (void)now_ns;
  ++feedbacks_;

  uint64_t received = 0;
  uint64_t lost = 0;
  uint64_t bytes = 0;
  int64_t arrival_us = 0;  // relative to the reference time; only differences are used
  int64_t first_arrival = std::numeric_limits<int64_t>::max();
  int64_t last_arrival = std::numeric_limits<int64_t>::min();
  uint64_t first_sent = std::numeric_limits<uint64_t>::max();
  uint64_t last_sent = 0;
  for (const wire::TransportCcPacketStatus& s : statuses) {
    if (s.received) arrival_us += s.delta_us;
    // A slot holds the last of the 16 sequence numbers mapping to it, so an equal number
    // is the packet itself, sent at most kHistory packets ago.
    const Sent& sent = history_[s.sequence % kHistory];
    if (sent.sent_ns == 0 || sent.seq != s.sequence) continue;
    if (!s.received) {
      ++lost;
      continue;
    }
    ++received;
    bytes += sent.bytes;
    first_arrival = std::min(first_arrival, arrival_us);
    last_arrival = std::max(last_arrival, arrival_us);
    first_sent = std::min(first_sent, sent.sent_ns);
    last_sent = std::max(last_sent, sent.sent_ns);
  }
  if (received + lost == 0) return;  // nothing this side knows about

  loss_ = static_cast<double>(lost) / static_cast<double>(received + lost);
  delivered_bps_ = 0;
  if (received > 0) {
    int64_t span_us = last_arrival - first_arrival;
    if (span_us < kMinSpanUs) span_us = static_cast<int64_t>((last_sent - first_sent) / 1000);
    if (span_us < kMinSpanUs) span_us = kMinSpanUs;
    delivered_bps_ = bytes * 8 * 1'000'000 / static_cast<uint64_t>(span_us);
  }

  estimate_bps_ = next_loss_based_estimate(estimate_bps_, delivered_bps_, loss_);
  if (remb_bps_ != 0) estimate_bps_ = std::min(estimate_bps_, remb_bps_);
  estimate_bps_ = std::max(estimate_bps_, kMinimumEstimateBps);
}

void SendSideBandwidthEstimator::on_remb(uint64_t bps) {
  // 0 is kept as "no REMB", so a REMB of 0 caps at 1 bps, which the floor then lifts.
  remb_bps_ = bps == 0 ? 1 : bps;
  estimate_bps_ = std::max(std::min(estimate_bps_, remb_bps_), kMinimumEstimateBps);
}

}  // namespace weir::dp
