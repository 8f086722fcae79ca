// What the room model needs of any transport, plain or WebRTC: its ids, the command that
// hands it to the worker, its answers to the API, the CNAME its producers share and the
// MIDs of its consumers. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/worker_commands.h"

namespace weir::control {

class Transport {
 public:
  Transport(std::string id, dp::TransportId dp_id, std::string broadcaster_id)
      : id_(std::move(id)), dp_id_(dp_id), broadcaster_id_(std::move(broadcaster_id)) {}
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  const std::string& id() const { return id_; }
  dp::TransportId dp_id() const { return dp_id_; }
  const std::string& broadcaster_id() const { return broadcaster_id_; }

  virtual bool is_webrtc() const = 0;
  // The command that hands the transport to the worker; call once and post it.
  virtual dp::Command take_add_command() = 0;
  // The answer to its creation (contract section 7).
  virtual nlohmann::json describe() const = 0;
  // Validates a connect body; returns the commands to post, in order. Throws ControlError
  // (400 for a bad field, 500 for a second connect) and then changes nothing.
  virtual std::vector<dp::Command> connect(const nlohmann::json& body) = 0;
  // The stats answer: an array of one object.
  virtual nlohmann::json stats() const = 0;
  // Called just before the transport leaves the dataplane (WebRTC: close_notify).
  virtual void close() {}

  // The CNAME every producer of this transport gets (mediasoup's cnameForProducers): the
  // first one a producer brought, or a random one.
  std::string cname_for_producer(const nlohmann::json& producer_rtcp);
  // The next consumer MID: "0", "1", ... never reused while the transport lives
  // (contract 6.5 step 6).
  std::string next_mid();

  const dp::TransportCounters& counters() const { return *counters_; }

 protected:
  dp::TransportCounters* counters_ptr() { return counters_.get(); }

 private:
  std::string id_;
  dp::TransportId dp_id_;
  std::string broadcaster_id_;
  std::string cname_;
  uint32_t next_mid_ = 0;
  // Freed only after the worker applied RemoveTransport (it writes them until then).
  std::unique_ptr<dp::TransportCounters> counters_ = std::make_unique<dp::TransportCounters>();
};

}  // namespace weir::control
