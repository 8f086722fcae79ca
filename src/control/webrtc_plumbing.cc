#include "control/webrtc_plumbing.h"

#include <unistd.h>

#include <chrono>

#include "base/clock.h"
#include "base/log.h"
#include "control/ice_lite_server.h"
#include "control/webrtc_transport.h"
#include "dataplane/worker.h"
#include "wire/stun_message.h"

namespace weir::control {

namespace {
constexpr auto kConsentSweep = std::chrono::seconds(1);
}

WebRtcPlumbing::WebRtcPlumbing(boost::asio::io_context& io, const std::vector<dp::Worker*>& workers)
    : io_(io), consent_timer_(io) {
  links_.reserve(workers.size());
  for (dp::Worker* w : workers) {
    // The descriptor gets a duplicate: the worker owns (and closes) its eventfd.
    const int fd = ::dup(w->control_event_fd());
    auto event = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
    links_.push_back(WorkerLink{w, std::move(event)});
  }
  for (WorkerLink& link : links_) wait(link);
  arm_consent_sweep();
}

WebRtcPlumbing::~WebRtcPlumbing() {
  *alive_ = false;
  consent_timer_.cancel();
  for (WorkerLink& link : links_) link.event->close();
}

void WebRtcPlumbing::wait(WorkerLink& link) {
  link.event->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [this, &link, alive = alive_](const boost::system::error_code& ec) {
                           if (ec || !*alive) return;
                           drain(link);
                           wait(link);
                         });
}

void WebRtcPlumbing::drain(WorkerLink& link) {
  uint64_t ignored = 0;
  [[maybe_unused]] const ssize_t n = ::read(link.event->native_handle(), &ignored, sizeof ignored);
  // Bounded per wake-up, so one busy worker cannot starve the others or the API.
  dp::ControlPacket packet;
  for (int i = 0; i < 4096 && link.worker->pop_control_packet(packet); ++i) route(packet);
  if (!link.worker->control_ring_empty()) {
    // Leftovers: come back after the other handlers had their turn.
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(link.event->native_handle(), &one, sizeof one);
  }
}

void WebRtcPlumbing::route(const dp::ControlPacket& packet) {
  WebRtcTransport* t = nullptr;
  if (packet.transport != 0) {
    auto it = by_dp_id_.find(packet.transport);
    if (it != by_dp_id_.end()) t = it->second;
  } else {
    t = by_username_fragment(packet);
  }
  if (t == nullptr) {
    ++unroutable_;  // closed meanwhile, or a check for nobody: dropped
    return;
  }
  t->on_control_packet(packet);
}

WebRtcTransport* WebRtcPlumbing::by_username_fragment(const dp::ControlPacket& packet) {
  wire::StunMessageView message;
  if (!wire::StunMessageView::parse(packet.data, packet.len, message)) return nullptr;
  const std::string ufrag(IceLiteServer::local_ufrag_of(message));
  auto it = by_ufrag_.find(ufrag);
  if (it == by_ufrag_.end()) return nullptr;
  const IceLiteServer& ice = it->second->ice();
  if (ice.credentials().username_fragment != ufrag &&
      ice.previous_credentials().username_fragment != ufrag) {
    by_ufrag_.erase(it);  // a fragment the transport gave up
    return nullptr;
  }
  return it->second;
}

void WebRtcPlumbing::add(WebRtcTransport* transport) {
  by_dp_id_[transport->dp_id()] = transport;
  by_ufrag_[transport->ice().credentials().username_fragment] = transport;
}

void WebRtcPlumbing::add_username_fragment(WebRtcTransport* transport, const std::string& ufrag) {
  by_ufrag_[ufrag] = transport;
}

void WebRtcPlumbing::remove(WebRtcTransport* transport) {
  by_dp_id_.erase(transport->dp_id());
  for (auto it = by_ufrag_.begin(); it != by_ufrag_.end();) {
    it = it->second == transport ? by_ufrag_.erase(it) : std::next(it);
  }
}

void WebRtcPlumbing::arm_consent_sweep() {
  consent_timer_.expires_after(kConsentSweep);
  consent_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    const uint64_t now_ms = weir::now_ns() / 1000000;
    for (const auto& [id, t] : by_dp_id_) t->check_consent(now_ms);
    arm_consent_sweep();
  });
}

}  // namespace weir::control
