// A room (mediasoup's Router plus the demo's Room): router capabilities and the
// broadcasters, transports, producers and consumers in it. Every transport of a room lives
// on the room's dataplane worker, so its producers and consumers can be wired together
// without crossing cores. Methods validate the request, change the model, post the
// dataplane commands and return the answer body; failures throw ControlError and leave
// the model unchanged. Control thread only.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "control/broadcaster.h"
#include "control/consumer.h"
#include "control/control.h"
#include "control/producer.h"
#include "control/transport.h"

namespace weir::dp {
class Worker;
}

namespace weir::control {

// Dataplane ids are numbers unique within the process (so a worker never sees two alike).
struct DataplaneIds {
  dp::TransportId next_transport = 1;
  dp::ProducerId next_producer = 1;
  dp::ConsumerId next_consumer = 1;
};

class WebRtcPlumbing;
class WebRtcTransport;

class Room {
 public:
  // plumbing: routes the worker's STUN/DTLS to WebRTC transports; null: plain only.
  Room(std::string id, nlohmann::json router_capabilities, dp::Worker* worker,
       const ControlConfig& config, DataplaneIds& ids, WebRtcPlumbing* plumbing = nullptr);
  ~Room();  // closes everything it still has
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  const std::string& id() const { return id_; }
  const nlohmann::json& router_capabilities() const { return router_capabilities_; }
  dp::Worker* worker() const { return worker_; }

  nlohmann::json create_broadcaster(const nlohmann::json& body);
  void delete_broadcaster(const std::string& broadcaster_id);
  nlohmann::json create_transport(const std::string& broadcaster_id, const nlohmann::json& body);
  void connect_transport(const std::string& broadcaster_id, const std::string& transport_id,
                         const nlohmann::json& body);
  nlohmann::json restart_ice(const std::string& broadcaster_id, const std::string& transport_id);
  nlohmann::json create_producer(const std::string& broadcaster_id, const std::string& transport_id,
                                 const nlohmann::json& body);
  nlohmann::json consume(const std::string& broadcaster_id, const std::string& transport_id,
                         const std::string& producer_id, const nlohmann::json& body);
  void set_producer_paused(const std::string& broadcaster_id, const std::string& producer_id,
                           bool paused);
  void set_consumer_paused(const std::string& broadcaster_id, const std::string& consumer_id,
                           bool paused);
  void close_producer(const std::string& broadcaster_id, const std::string& producer_id);
  void close_consumer(const std::string& broadcaster_id, const std::string& consumer_id);

  nlohmann::json transport_stats(const std::string& transport_id) const;
  nlohmann::json producer_stats(const std::string& producer_id) const;
  nlohmann::json consumer_stats(const std::string& consumer_id) const;

  // Removes every broadcaster and what it owns from the dataplane.
  void close();

  size_t transport_count() const { return transports_.size(); }
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }

 private:
  Broadcaster& broadcaster(const std::string& id);
  Transport& transport_of(const std::string& broadcaster_id, const std::string& transport_id);
  void on_webrtc_event(const struct WebRtcTransportEvent& event);
  Producer& producer_of(const std::string& broadcaster_id, const std::string& producer_id);
  Consumer& consumer_of(const std::string& broadcaster_id, const std::string& consumer_id);
  uint64_t post(dp::Command command);
  // Takes consumers, producers (with every consumer of them) and transports (with their
  // producers and consumers) out of the dataplane, waits until the worker has let go of
  // their counters, then forgets them.
  void remove(std::set<std::string> consumers, std::set<std::string> producers,
              std::set<std::string> transports);
  nlohmann::json producer_stats_item(const Producer& producer) const;

  std::string id_;
  nlohmann::json router_capabilities_;
  dp::Worker* worker_;
  ControlConfig config_;
  DataplaneIds& ids_;
  WebRtcPlumbing* plumbing_;
  std::map<std::string, std::unique_ptr<Broadcaster>> broadcasters_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;
  std::map<std::string, std::unique_ptr<Producer>> producers_;
  std::map<std::string, std::unique_ptr<Consumer>> consumers_;
};

}  // namespace weir::control
