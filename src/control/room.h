// A room (mediasoup's Router plus the demo's Room): router capabilities and the peers
// (protoo peers and broadcasters), transports, producers, consumers, data producers and
// data consumers in it. A room's transports live on its home worker until it has more
// consumers than the spread threshold; then new transports go to the least-loaded worker
// (worker_placement.h), and a producer reaches its consumers on another worker through a
// pipe between the two workers (set up here, per producer and worker, while such consumers
// exist). Methods
// validate the request, change the model, post the dataplane commands, tell the other
// peers (notifications, newConsumer requests) and return the answer body; failures throw
// ControlError and leave the model unchanged. Control thread only.
//
// The implementation is split by purpose: room.cc (lookups, removal, stats),
// room_broadcasters.cc (the HTTP API), room_media.cc (transports, producers, consumers
// shared by both kinds of peer), room_peers.cc (protoo peers joining and leaving),
// protoo_requests.cc (the protoo request table), room_data.cc (DataChannels),
// room_notifications.cc (what the others are told) and score.cc (the periodic observers:
// scores, layers, active speaker).
#pragma once

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "control/consumer.h"
#include "control/control.h"
#include "control/data_consumer.h"
#include "control/data_producer.h"
#include "control/peer.h"
#include "control/producer.h"
#include "control/transport.h"
#include "control/worker_placement.h"

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

// The workers a room may use: every worker of the process (indexed by worker index) and
// the process's placement. Empty: everything on the room's one worker.
struct RoomWorkers {
  std::vector<dp::Worker*> all;
  WorkerPlacement* placement = nullptr;
  uint32_t home = 0;  // index into all
};

class WebRtcPlumbing;
class WebRtcTransport;
struct WebRtcTransportEvent;
struct SctpMessage;

class Room {
 public:
  // plumbing: routes the worker's STUN/DTLS to WebRTC transports; null: plain only.
  // workers: where its transports may go (empty: all on `worker`).
  Room(std::string id, nlohmann::json router_capabilities, dp::Worker* worker,
       const ControlConfig& config, DataplaneIds& ids, WebRtcPlumbing* plumbing = nullptr,
       RoomWorkers workers = {});
  ~Room();  // closes everything it still has
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  const std::string& id() const { return id_; }
  const nlohmann::json& router_capabilities() const { return router_capabilities_; }
  dp::Worker* worker() const { return worker_; }  // its home worker
  uint32_t home_worker() const { return home_; }
  // No peers and no broadcasters.
  bool empty() const { return peers_.empty(); }
  // Called (from the event loop, never inside a Room call) when the room became empty
  // because of something it noticed itself (a transport's ICE or DTLS failure closed the
  // last peer): the registry closes it then.
  void set_on_empty(std::function<void()> on_empty) { on_empty_ = std::move(on_empty); }

  // The broadcaster API (contract 7).
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
  nlohmann::json produce_data(const std::string& broadcaster_id, const std::string& transport_id,
                              const nlohmann::json& body);
  nlohmann::json consume_data(const std::string& broadcaster_id, const std::string& transport_id,
                              const nlohmann::json& body);
  void set_producer_paused(const std::string& broadcaster_id, const std::string& producer_id,
                           bool paused);
  void set_consumer_paused(const std::string& broadcaster_id, const std::string& consumer_id,
                           bool paused);
  void close_producer(const std::string& broadcaster_id, const std::string& producer_id);
  void close_consumer(const std::string& broadcaster_id, const std::string& consumer_id);

  // protoo peers (contract 1-4).
  // A new connection for peer_id: an existing peer of that id is closed first (its channel
  // closed, the peer-left path run), then the new one is added, not yet joined.
  void peer_connected(const std::string& peer_id, std::shared_ptr<PeerChannel> channel);
  // One request; respond runs exactly once (before any side effect meant to follow the
  // answer, e.g. join's newConsumer requests).
  void peer_request(const std::string& peer_id, const PeerChannel* channel,
                    const std::string& method, const nlohmann::json& data,
                    const std::function<void(ApiResult)>& respond);
  // The connection closed: the peer-left path (ignored for a replaced connection).
  void peer_disconnected(const std::string& peer_id, const PeerChannel* channel);

  nlohmann::json transport_stats(const std::string& transport_id) const;
  nlohmann::json producer_stats(const std::string& producer_id) const;
  nlohmann::json consumer_stats(const std::string& consumer_id) const;
  nlohmann::json data_producer_stats(const std::string& data_producer_id) const;
  nlohmann::json data_consumer_stats(const std::string& data_consumer_id) const;

  // Removes every peer and what it owns from the dataplane (no notifications).
  void close();

  size_t transport_count() const { return transports_.size(); }
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }
  size_t data_producer_count() const { return data_producers_.size(); }
  size_t data_consumer_count() const { return data_consumers_.size(); }
  size_t peer_count() const { return peers_.size(); }

  // One step of the observers (score.cc), normally run by a timer every 200 ms; public so
  // tests can step them without waiting.
  void observe_step();

 private:
  // Per transport, what the room needs beyond the transport itself.
  struct TransportRole {
    bool producing = true;
    bool consuming = true;
    uint16_t sctp_mis = 1024;            // data consumers' stream ids stay below it
    uint32_t worker = 0;                 // index into workers_: where it lives
    std::set<uint16_t> data_stream_ids;  // taken by this transport's data consumers
  };

  // --- lookups (room.cc): broadcaster API wording ("transport \"x\" not found").
  Peer& broadcaster(const std::string& id);
  Transport& transport_of(const std::string& broadcaster_id, const std::string& transport_id);
  Producer& producer_of(const std::string& broadcaster_id, const std::string& producer_id);
  Consumer& consumer_of(const std::string& broadcaster_id, const std::string& consumer_id);
  // protoo wording (the demo's): transport with id "x" not found.
  Transport& peer_transport(const Peer& peer, const nlohmann::json& data);
  Producer& peer_producer(const Peer& peer, const nlohmann::json& data);
  Consumer& peer_consumer(const Peer& peer, const nlohmann::json& data);
  DataProducer& peer_data_producer(const Peer& peer, const nlohmann::json& data);
  DataConsumer& peer_data_consumer(const Peer& peer, const nlohmann::json& data);
  // The transport consumers of this peer go to: its first with consuming:true.
  Transport* consuming_transport(const Peer& peer);
  WebRtcTransport* webrtc(const std::string& transport_id);

  // Posts to one worker (index into workers_) and waits until it applied the command.
  uint64_t post_to(uint32_t worker, dp::Command command);
  uint32_t worker_of_transport(const std::string& transport_id) const;
  // Pipes (room_media.cc): a consumer of producer on another worker than the producer's
  // needs the producer piped there (the first such consumer sets the pipe up, the last
  // one gone takes it down).
  void attach_pipe(Producer& producer, uint32_t worker);
  void release_pipe(Producer& producer, uint32_t worker);
  // Takes consumers, producers (with every consumer of them), data consumers, data
  // producers (with theirs) and transports (with everything on them) out of the dataplane,
  // waits until the worker has let go of their counters, then forgets them. Consumers
  // that go because their producer went (not their own transport) tell their peer:
  // consumerClosed / dataConsumerClosed.
  void remove(std::set<std::string> consumers, std::set<std::string> producers,
              std::set<std::string> transports, std::set<std::string> data_consumers = {},
              std::set<std::string> data_producers = {});
  nlohmann::json producer_stats_items(const Producer& producer) const;

  // --- media (room_media.cc), for both kinds of peer.
  // type "plain" (body: plain options) or "webrtc".
  Transport& add_transport(Peer& owner, const std::string& type, const nlohmann::json& body,
                           TransportRole role);
  void on_webrtc_event(const WebRtcTransportEvent& event);
  // Validates and creates the producer; consumers are the caller's business.
  Producer& add_producer(Peer& owner, Transport& transport, const nlohmann::json& data,
                         const std::string& path);
  // Creates the consumer (paused if asked) and posts it; throws when it cannot consume.
  Consumer& add_consumer(const Peer& consumer_peer, Transport& transport, Producer& producer,
                         bool paused);
  void pause_producer(Producer& producer, bool paused);
  void pause_consumer(Consumer& consumer, bool paused);

  // --- protoo peers (room_peers.cc, protoo_requests.cc).
  Peer* peer_with_channel(const std::string& peer_id, const PeerChannel* channel);
  // The peer-left path: peerClosed to the others, then its transports go (consumerClosed
  // / dataConsumerClosed at the others), then the peer; close_channel: also close its
  // connection (4000).
  void close_peer(const std::string& peer_id, bool close_channel);
  // Runs one protoo request; `then` (if set) runs after the answer went out.
  nlohmann::json handle(Peer& peer, const std::string& method, const nlohmann::json& data,
                        std::function<void()>& then);
  nlohmann::json join(Peer& peer, const nlohmann::json& data, std::function<void()>& then);
  nlohmann::json create_webrtc_transport(Peer& peer, const nlohmann::json& data);
  nlohmann::json produce(Peer& peer, const nlohmann::json& data, std::function<void()>& then);
  nlohmann::json produce_data_for(Peer& peer, const nlohmann::json& data,
                                  std::function<void()>& then);
  void set_preferred_layers(Consumer& consumer, const nlohmann::json& data);
  // The demo's consumer creation for a protoo peer (contract 3.1): paused, newConsumer,
  // resumed once the client said ok. Does nothing when the peer cannot consume it.
  void offer_consumer(Peer& consumer_peer, Producer& producer);
  void on_new_consumer_answer(const std::string& consumer_id, const PeerResponse& response);
  // Contract 3.3: a data consumer on its consuming transport and newDataConsumer.
  void offer_data_consumer(Peer& consumer_peer, DataProducer& data_producer);
  // Ids of a map's values with owner != peer_id, in creation order (the demo's maps
  // iterate in insertion order, and consumer MIDs follow it).
  template <typename Map>
  static std::vector<std::string> in_order(const Map& map) {
    std::vector<std::pair<uint64_t, std::string>> ordered;
    for (const auto& [id, value] : map) ordered.emplace_back(value->order, id);
    std::sort(ordered.begin(), ordered.end());
    std::vector<std::string> ids;
    for (auto& entry : ordered) ids.push_back(std::move(entry.second));
    return ids;
  }
  // What a joined peer gets of everybody else's producers and data producers.
  void offer_everything_to(Peer& peer);
  // After a producer was created: every other joined peer consumes it.
  void offer_to_others(Producer& producer);

  // --- DataChannels (room_data.cc).
  DataProducer& add_data_producer(Peer& owner, Transport& transport, const nlohmann::json& data,
                                  const std::string& path);
  DataConsumer& add_data_consumer(const Peer& consumer_peer, Transport& transport,
                                  DataProducer& data_producer);
  void on_sctp_message(const std::string& transport_id, const SctpMessage& message);
  void add_bot();
  // The bot's answer to a text message on a peer's "bot" data producer.
  void bot_answer(const DataProducer& source, const SctpMessage& message);
  // Sends one message on every data consumer of data_producer.
  void relay(DataProducer& data_producer, uint32_t ppid, const uint8_t* data, size_t len);

  // --- notifications (room_notifications.cc).
  void notify(const Peer& peer, const char* method, nlohmann::json data);
  void notify_joined_except(const std::string& except_peer_id, const char* method,
                            const nlohmann::json& data);
  void notify_consumer_score(Consumer& consumer, bool always);

  // --- observers (score.cc).
  void arm_observer_timer();
  void observe_scores();
  void observe_layers();
  void observe_active_speaker();

  std::string id_;
  nlohmann::json router_capabilities_;
  dp::Worker* worker_;
  std::vector<dp::Worker*> workers_;      // by worker index; {worker_} without placement
  WorkerPlacement* placement_ = nullptr;  // null: every transport on worker_
  uint32_t home_ = 0;
  ControlConfig config_;
  DataplaneIds& ids_;
  WebRtcPlumbing* plumbing_;
  std::function<void()> on_empty_;
  uint64_t next_order_ = 1;  // Peer/Producer/DataProducer::order
  // The demo bot's data producer (in data_producers_, on no transport, of no peer);
  // empty: no bot.
  std::string bot_data_producer_id_;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;
  std::map<std::string, TransportRole> transport_roles_;
  std::map<std::string, std::unique_ptr<Producer>> producers_;
  std::map<std::string, std::unique_ptr<Consumer>> consumers_;
  std::map<std::string, std::unique_ptr<DataProducer>> data_producers_;
  std::map<std::string, std::unique_ptr<DataConsumer>> data_consumers_;
  // Observers: one timer, steps of kObserverStepMs (score.cc).
  std::unique_ptr<boost::asio::steady_timer> observer_timer_;
  uint64_t observer_steps_ = 0;
  std::string active_speaker_;  // empty: silence announced (or nobody spoke yet)
  // Lambdas the event loop runs later check it: the room may be gone by then.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace weir::control
