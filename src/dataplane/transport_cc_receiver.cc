#include "dataplane/transport_cc_receiver.h"

#include <span>

namespace weir::dp {

namespace {

constexpr uint64_t kReferenceTimeUnitNs = 64'000'000;  // reference time counts 64 ms
constexpr int64_t kTickUs = wire::kTransportCcDeltaTickUs;
constexpr int64_t kMinDeltaTicks = -32768;  // what a 2-byte delta can carry
constexpr int64_t kMaxDeltaTicks = 32767;
// The first sequence number unwraps to this, so that packets reordered from before it
// still get positive numbers (next_base_ uses -1 as "none").
constexpr int64_t kUnwrapOrigin = 0x10000;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

int64_t TransportCcReceiver::unwrap(uint16_t seq) {
  if (!started_) {
    started_ = true;
    last_unwrapped_ = kUnwrapOrigin + seq;
    return last_unwrapped_;
  }
  const auto delta = static_cast<int16_t>(seq - static_cast<uint16_t>(last_unwrapped_));
  const int64_t unwrapped = last_unwrapped_ + delta;
  // Only the newest moves the reference: a reordered packet must not drag it back.
  if (unwrapped > last_unwrapped_) last_unwrapped_ = unwrapped;
  return unwrapped;
}

void TransportCcReceiver::on_packet(uint16_t seq, uint64_t arrival_ns) {
  const int64_t useq = unwrap(seq);
  if (next_base_ >= 0 && useq < next_base_) return;  // already reported (as lost)

  // Arrivals are nearly in order, so the insertion point is found from the newest end in
  // a step or two.
  size_t pos = count_;
  while (pos > 0 && at(pos - 1).seq > useq) --pos;
  if (pos > 0 && at(pos - 1).seq == useq) return;  // duplicate
  if (count_ == kCapacity) {
    // Feedback is overdue: the oldest arrival is forgotten and never reported, which the
    // sender treats as no information rather than as a loss.
    if (pos == 0) return;
    next_base_ = at(0).seq + 1;
    head_ = (head_ + 1) & (kCapacity - 1);
    --count_;
    --pos;
  }
  for (size_t i = count_; i > pos; --i) at(i) = at(i - 1);
  at(pos) = Arrival{useq, arrival_ns};
  ++count_;
}

size_t TransportCcReceiver::write_feedback(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                           uint32_t media_ssrc) {
  if (count_ == 0 || out == nullptr) return 0;

  int64_t base = next_base_ >= 0 ? next_base_ : at(0).seq;
  // A loss run longer than one feedback can hold would leave no received packet to anchor
  // the reference time: the report starts at the first packet received instead.
  if (at(0).seq - base >= static_cast<int64_t>(kCapacity)) base = at(0).seq;

  const uint64_t reference = at(0).arrival_ns / kReferenceTimeUnitNs;
  const auto reference_us = static_cast<int64_t>(reference * (kReferenceTimeUnitNs / 1000));

  // Deltas are taken between the tick-rounded times the sender will reconstruct, not the
  // exact ones, so that rounding does not accumulate along the feedback.
  size_t n = 0;
  int64_t prev_ticks = 0;
  for (size_t k = 0; k < count_; ++k) {
    const Arrival& a = at(k);
    if (a.seq - base >= static_cast<int64_t>(kCapacity)) break;  // the rest waits
    const int64_t ticks =
        floor_div(static_cast<int64_t>(a.arrival_ns / 1000) - reference_us, kTickUs);
    const int64_t delta = ticks - prev_ticks;
    // Too far from the previous one for a 2-byte delta (a long pause): the feedback ends
    // here and the next one starts with its own reference time.
    if (delta < kMinDeltaTicks || delta > kMaxDeltaTicks) break;
    for (int64_t s = base + static_cast<int64_t>(n); s < a.seq; ++s, ++n)
      statuses_[n] = {static_cast<uint16_t>(s), false, 0};
    statuses_[n] = {static_cast<uint16_t>(a.seq), true, static_cast<int32_t>(delta * kTickUs)};
    ++n;
    prev_ticks = ticks;
  }

  wire::TransportCcFeedback fb;
  fb.sender_ssrc = sender_ssrc;
  fb.media_ssrc = media_ssrc;
  fb.base_sequence = static_cast<uint16_t>(base);
  fb.reference_time = static_cast<uint32_t>(reference & 0xFFFFFF);
  fb.feedback_count = feedback_count_;

  // The encoded size depends on the status pattern; when it does not fit, fewer packets
  // are tried, always ending on a received one so that trailing gaps can still arrive.
  size_t size = 0;
  while (n > 0) {
    fb.status_count = static_cast<uint16_t>(n);
    size = wire::write_rtcp_transport_cc(
        out, capacity, fb, std::span<const wire::TransportCcPacketStatus>(statuses_.data(), n));
    if (size > 0) break;
    n /= 2;
    while (n > 0 && !statuses_[n - 1].received) --n;
  }
  if (size == 0) return 0;

  ++feedback_count_;
  next_base_ = base + static_cast<int64_t>(n);
  while (count_ > 0 && at(0).seq < next_base_) {
    head_ = (head_ + 1) & (kCapacity - 1);
    --count_;
  }
  return size;
}

}  // namespace weir::dp
