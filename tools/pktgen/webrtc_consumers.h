// The consumers' WebRTC endpoints, one per receiving socket, on the receiver's thread: the
// receiver hands them their sockets' ICE and DTLS datagrams, they send through it, and
// their DTLS-SRTP keys arm it. Their timers sit in one min-heap so that serving them costs
// nothing per received media packet and O(log N) per timer, however many there are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "receiver.h"
#include "webrtc_endpoint.h"

namespace weir::pktgen {

class WebRtcConsumers final : public Receiver::ControlSink {
 public:
  explicit WebRtcConsumers(Receiver& receiver) : receiver_(receiver) {}

  // Endpoint for consumer index size(); call in consumer order.
  void add(WebRtcEndpointConfig config);
  size_t size() const { return links_.size(); }
  WebRtcEndpoint& endpoint(uint32_t consumer) { return *links_[consumer]->endpoint; }
  const WebRtcEndpoint& endpoint(uint32_t consumer) const { return *links_[consumer]->endpoint; }

  // Starts the endpoints not started yet, a few per millisecond: a thousand first checks
  // (and the handshakes they set off) do not land on weir in the same instant.
  void start_due(uint64_t now_ms);
  bool all_started() const { return started_ == links_.size(); }
  void run_timers(uint64_t now_ms);
  // The earliest timer, or the next start; WebRtcEndpoint::kNever if none.
  uint64_t next_due_ms() const;
  // Every endpoint connected or failed.
  bool all_settled() const;
  // Why installing consumer i's keys failed; empty if it did not.
  const std::string& key_error(uint32_t consumer) const { return links_[consumer]->key_error; }

  void restart_ice(uint32_t consumer, IceCredentials remote, uint64_t now_ms);
  void set_silent(uint32_t consumer, bool silent);

  void on_control_datagram(uint32_t consumer, DatagramKind kind, const uint8_t* data,
                           size_t len) override;

 private:
  struct Link final : WebRtcEndpoint::Owner {
    Receiver* receiver = nullptr;
    uint32_t index = 0;
    std::unique_ptr<WebRtcEndpoint> endpoint;
    std::string key_error;
    uint64_t scheduled = WebRtcEndpoint::kNever;  // due time of its one live heap entry
    void send_datagram(const uint8_t* data, size_t len) override;
    void on_srtp_keys(const dp::DtlsSrtpKeys& keys) override;
  };
  using Timer = std::pair<uint64_t, uint32_t>;  // due (ms), consumer

  // Makes the heap hold the endpoint's next due time (never before not_before).
  void arm(uint32_t consumer, uint64_t not_before = 0);

  Receiver& receiver_;
  std::vector<std::unique_ptr<Link>> links_;
  // An entry is live only while it equals its link's `scheduled`; others are dropped when
  // they come up, so the heap never holds more than one live entry per endpoint.
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  size_t started_ = 0;
  uint64_t last_start_ms_ = 0;
};

}  // namespace weir::pktgen
