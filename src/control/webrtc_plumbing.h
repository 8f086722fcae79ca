// Where the workers' STUN and DTLS datagrams meet their WebRtcTransports on the control
// thread. For each worker it waits on the worker's control eventfd (asio), drains its ring
// and hands each datagram to its transport: by the transport id the worker knew, or, for a
// new 5-tuple on the shared port, by the ICE username fragment in the STUN request. It
// also runs the once-a-second ICE consent sweep. Control thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/worker_commands.h"

namespace weir::dp {
class Worker;
}

namespace weir::control {

class WebRtcTransport;

class WebRtcPlumbing {
 public:
  WebRtcPlumbing(boost::asio::io_context& io, const std::vector<dp::Worker*>& workers);
  ~WebRtcPlumbing();
  WebRtcPlumbing(const WebRtcPlumbing&) = delete;
  WebRtcPlumbing& operator=(const WebRtcPlumbing&) = delete;

  void add(WebRtcTransport* transport);
  void remove(WebRtcTransport* transport);
  // After restartIce: the new username fragment routes too (the old one until the peer
  // switches; lookups check the transport still accepts the fragment).
  void add_username_fragment(WebRtcTransport* transport, const std::string& ufrag);

  boost::asio::io_context& io() { return io_; }
  uint64_t unroutable_packets() const { return unroutable_; }

 private:
  struct WorkerLink {
    dp::Worker* worker;
    std::unique_ptr<boost::asio::posix::stream_descriptor> event;
  };
  void wait(WorkerLink& link);
  void drain(WorkerLink& link);
  void route(const dp::ControlPacket& packet);
  WebRtcTransport* by_username_fragment(const dp::ControlPacket& packet);
  void arm_consent_sweep();

  boost::asio::io_context& io_;
  std::vector<WorkerLink> links_;
  std::unordered_map<dp::TransportId, WebRtcTransport*> by_dp_id_;
  std::unordered_map<std::string, WebRtcTransport*> by_ufrag_;
  boost::asio::steady_timer consent_timer_;
  uint64_t unroutable_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace weir::control
