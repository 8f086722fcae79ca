#include "webrtc_consumers.h"

#include <algorithm>

#include "base/clock.h"

namespace weir::pktgen {
namespace {

constexpr size_t kStartsPerMs = 2;

uint64_t now_ms() { return now_ns() / 1000000ull; }

}  // namespace

void WebRtcConsumers::Link::send_datagram(const uint8_t* data, size_t len) {
  // A full pool drops the datagram like a lossy network would: ICE and DTLS retransmit.
  receiver->send(index, data, len);
}

void WebRtcConsumers::Link::on_srtp_keys(const dp::DtlsSrtpKeys& keys) {
  receiver->set_keys(index, keys, &key_error);
}

void WebRtcConsumers::add(WebRtcEndpointConfig config) {
  auto link = std::make_unique<Link>();
  link->receiver = &receiver_;
  link->index = static_cast<uint32_t>(links_.size());
  link->endpoint = std::make_unique<WebRtcEndpoint>(std::move(config), *link);
  links_.push_back(std::move(link));
}

void WebRtcConsumers::arm(uint32_t consumer, uint64_t not_before) {
  Link& l = *links_[consumer];
  uint64_t due = l.endpoint->next_due_ms();
  if (due != WebRtcEndpoint::kNever) due = std::max(due, not_before);
  if (due == l.scheduled) return;
  l.scheduled = due;
  if (due != WebRtcEndpoint::kNever) timers_.emplace(due, consumer);
}

void WebRtcConsumers::start_due(uint64_t now) {
  if (all_started()) return;
  const size_t budget =
      started_ == 0 ? kStartsPerMs : static_cast<size_t>(now - last_start_ms_) * kStartsPerMs;
  if (budget == 0) return;
  const size_t end = std::min(links_.size(), started_ + budget);
  for (; started_ < end; ++started_) {
    links_[started_]->endpoint->start(now);
    arm(static_cast<uint32_t>(started_));
  }
  last_start_ms_ = now;
}

void WebRtcConsumers::run_timers(uint64_t now) {
  start_due(now);
  while (!timers_.empty() && timers_.top().first <= now) {
    const auto [due, consumer] = timers_.top();
    timers_.pop();
    Link& l = *links_[consumer];
    if (due != l.scheduled) continue;  // superseded
    l.scheduled = WebRtcEndpoint::kNever;
    if (l.endpoint->next_due_ms() <= now) l.endpoint->on_timer(now);
    // A timer that did not move (OpenSSL's clock lags ours) comes back next millisecond,
    // not in this loop.
    arm(consumer, now + 1);
  }
}

uint64_t WebRtcConsumers::next_due_ms() const {
  uint64_t due = timers_.empty() ? WebRtcEndpoint::kNever : timers_.top().first;
  if (!all_started()) due = std::min(due, last_start_ms_ + 1);
  return due;
}

bool WebRtcConsumers::all_settled() const {
  return all_started() && std::all_of(links_.begin(), links_.end(),
                                      [](const auto& l) { return l->endpoint->settled(); });
}

void WebRtcConsumers::restart_ice(uint32_t consumer, IceCredentials remote, uint64_t now) {
  links_[consumer]->endpoint->restart_ice(std::move(remote), now);
  arm(consumer);
}

void WebRtcConsumers::set_silent(uint32_t consumer, bool silent) {
  links_[consumer]->endpoint->set_silent(silent);
  receiver_.set_ignoring(consumer, silent);
  if (!silent) arm(consumer);
}

void WebRtcConsumers::on_control_datagram(uint32_t consumer, DatagramKind kind, const uint8_t* data,
                                          size_t len) {
  if (consumer >= links_.size()) return;
  links_[consumer]->endpoint->on_datagram(kind, data, len, now_ms());
  arm(consumer);
}

}  // namespace weir::pktgen
