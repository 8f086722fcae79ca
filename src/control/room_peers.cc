// Room: protoo peers arriving, being replaced and leaving, and what a peer is offered to
// consume (contract 1.3, 3.1, 3.3).
#include <algorithm>

#include "base/log.h"
#include "control/control_error.h"
#include "control/ortc.h"
#include "control/room.h"

namespace weir::control {

using nlohmann::json;

void Room::peer_connected(const std::string& peer_id, std::shared_ptr<PeerChannel> channel) {
  if (peer_id.empty()) throw_invalid("missing field peerId");
  if (!channel) throw_invalid("no channel for the peer");
  auto existing = peers_.find(peer_id);
  if (existing != peers_.end()) {
    if (existing->second->is_broadcaster()) {
      throw_refused("peer id \"" + peer_id + "\" is a broadcaster's");
    }
    // Contract 1.3: the old connection is closed (4000) and leaves as any peer does; the
    // room stays, even if it was the only peer, since the new one is about to arrive.
    LOG_INFO("control", "room %s: peer %s reconnected: replacing the old connection", id_.c_str(),
             peer_id.c_str());
    close_peer(peer_id, true);
  }
  auto peer = std::make_unique<Peer>();
  peer->id = peer_id;
  peer->order = next_order_++;
  peer->channel = std::move(channel);
  peers_.emplace(peer_id, std::move(peer));
  LOG_INFO("control", "room %s: peer %s connected", id_.c_str(), peer_id.c_str());
}

Peer* Room::peer_with_channel(const std::string& peer_id, const PeerChannel* channel) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end() || it->second->channel.get() != channel) return nullptr;
  return it->second.get();
}

void Room::peer_disconnected(const std::string& peer_id, const PeerChannel* channel) {
  if (!peer_with_channel(peer_id, channel)) return;  // a replaced connection: already gone
  LOG_INFO("control", "room %s: peer %s disconnected", id_.c_str(), peer_id.c_str());
  close_peer(peer_id, false);
}

void Room::close_peer(const std::string& peer_id, bool close_channel) {
  auto it = peers_.find(peer_id);
  if (it == peers_.end()) return;
  Peer& peer = *it->second;
  // peerClosed first, then the transports go (consumerClosed at the others): contract 1.3.
  if (peer.joined) notify_joined_except(peer_id, "peerClosed", {{"peerId", peer_id}});
  const std::set<std::string> transports(peer.transport_ids.begin(), peer.transport_ids.end());
  remove({}, {}, transports);
  std::shared_ptr<PeerChannel> channel = std::move(peer.channel);
  peers_.erase(it);
  // Last: closing may run the callbacks of its pending requests, which must find it gone.
  if (close_channel && channel) channel->close();
}

void Room::offer_consumer(Peer& consumer_peer, Producer& producer) {
  if (!consumer_peer.joined || consumer_peer.is_broadcaster()) return;
  if (!consumer_peer.rtp_capabilities) return;
  Transport* transport = consuming_transport(consumer_peer);
  if (!transport) return;
  if (!can_consume(producer.consumable_parameters, *consumer_peer.rtp_capabilities)) return;
  Consumer* consumer = nullptr;
  try {
    // Paused until the endpoint has its receiver (contract 3.1).
    consumer = &add_consumer(consumer_peer, *transport, producer, true);
  } catch (const ControlError& e) {
    LOG_WARN("control", "room %s: peer %s cannot consume producer %s: %s", id_.c_str(),
             consumer_peer.id.c_str(), producer.id.c_str(), e.what());
    return;
  }
  json data = {{"peerId", producer.peer_id},
               {"producerId", producer.id},
               {"id", consumer->id},
               {"kind", producer.kind},
               {"rtpParameters", consumer->rtp_parameters()},
               {"type", producer.type},
               {"appData", producer.app_data},
               {"producerPaused", producer.paused}};
  std::weak_ptr<bool> alive = alive_;
  const std::string consumer_id = consumer->id;
  // Keeps the channel alive through the call, whatever the callback does.
  std::shared_ptr<PeerChannel> channel = consumer_peer.channel;
  channel->request("newConsumer", std::move(data),
                   [this, alive, consumer_id](const PeerResponse& response) {
                     if (alive.expired()) return;
                     on_new_consumer_answer(consumer_id, response);
                   });
}

void Room::on_new_consumer_answer(const std::string& consumer_id, const PeerResponse& response) {
  auto it = consumers_.find(consumer_id);
  if (it == consumers_.end()) return;  // closed meanwhile
  Consumer& consumer = *it->second;
  if (!response.ok) {
    // Left paused (contract 3.1): the endpoint has no receiver for it.
    LOG_WARN("control", "room %s: peer %s refused newConsumer %s: %d %s", id_.c_str(),
             consumer.peer_id.c_str(), consumer_id.c_str(), response.error_code,
             response.error_reason.c_str());
    return;
  }
  try {
    pause_consumer(consumer, false);
    notify_consumer_score(consumer, true);
  } catch (const std::exception& e) {
    LOG_ERROR("control", "room %s: resuming consumer %s failed: %s", id_.c_str(),
              consumer_id.c_str(), e.what());
  }
}

void Room::offer_data_consumer(Peer& consumer_peer, DataProducer& data_producer) {
  if (!consumer_peer.joined || consumer_peer.is_broadcaster()) return;
  // Field notes: mediasoup-client 3.24 may join without sctpCapabilities although its
  // transports have SCTP (weir enables it on every WebRTC transport); the consuming
  // transport is what decides.
  Transport* transport = consuming_transport(consumer_peer);
  if (!transport || !transport->is_webrtc()) return;
  DataConsumer* dc = nullptr;
  try {
    dc = &add_data_consumer(consumer_peer, *transport, data_producer);
  } catch (const ControlError& e) {
    LOG_WARN("control", "room %s: peer %s cannot consume data producer %s: %s", id_.c_str(),
             consumer_peer.id.c_str(), data_producer.id.c_str(), e.what());
    return;
  }
  const Peer* producer_peer =
      peers_.count(data_producer.peer_id) ? peers_.at(data_producer.peer_id).get() : nullptr;
  json data = {{"peerId", producer_peer ? json(producer_peer->id) : json(nullptr)},
               {"dataProducerId", data_producer.id},
               {"id", dc->id},
               {"sctpStreamParameters", sctp_stream_parameters_json(dc->stream)},
               {"label", dc->label},
               {"protocol", dc->protocol},
               {"appData", dc->app_data}};
  std::weak_ptr<bool> alive = alive_;
  const std::string id = dc->id;
  const std::string room_id = id_;
  std::shared_ptr<PeerChannel> channel = consumer_peer.channel;
  channel->request(
      "newDataConsumer", std::move(data), [alive, id, room_id](const PeerResponse& response) {
        if (alive.expired() || response.ok) return;
        // Non-fatal for the demo app: chat just does not reach this peer.
        LOG_WARN("control", "room %s: newDataConsumer %s refused: %d %s", room_id.c_str(),
                 id.c_str(), response.error_code, response.error_reason.c_str());
      });
}

void Room::offer_everything_to(Peer& peer) {
  // Ids first: offering sends requests, and a synchronous answer must not find the maps
  // being walked.
  std::vector<std::string> producer_ids, data_producer_ids;
  for (const std::string& pid : in_order(producers_)) {
    if (producers_.at(pid)->peer_id != peer.id) producer_ids.push_back(pid);
  }
  for (const std::string& did : in_order(data_producers_)) {
    const auto& data_producer = data_producers_.at(did);
    const Peer* owner =
        peers_.count(data_producer->peer_id) ? peers_.at(data_producer->peer_id).get() : nullptr;
    // DEMO: "bot" producers feed the server bot; a broadcaster's go nowhere (contract 7).
    if (data_producer->peer_id == peer.id || !owner || owner->is_broadcaster()) continue;
    if (data_producer->label == "bot") continue;
    data_producer_ids.push_back(did);
  }
  for (const std::string& pid : producer_ids) {
    auto p = producers_.find(pid);
    auto owner = p == producers_.end() ? peers_.end() : peers_.find(p->second->peer_id);
    if (owner == peers_.end() || !owner->second->joined) continue;
    offer_consumer(peer, *p->second);
  }
  for (const std::string& did : data_producer_ids) {
    auto d = data_producers_.find(did);
    auto owner = d == data_producers_.end() ? peers_.end() : peers_.find(d->second->peer_id);
    if (owner == peers_.end() || !owner->second->joined) continue;
    offer_data_consumer(peer, *d->second);
  }
  // Contract 3.2 step 4: the server bot's data producer, with peerId null.
  auto bot = data_producers_.find(bot_data_producer_id_);
  if (bot != data_producers_.end() && peers_.count(peer.id))
    offer_data_consumer(peer, *bot->second);
}

void Room::offer_to_others(Producer& producer) {
  const std::string producer_id = producer.id;
  std::vector<std::string> peer_ids;
  for (const std::string& pid : in_order(peers_)) {
    const Peer& peer = *peers_.at(pid);
    if (pid != producer.peer_id && peer.joined && !peer.is_broadcaster()) peer_ids.push_back(pid);
  }
  for (const std::string& pid : peer_ids) {
    auto p = producers_.find(producer_id);
    auto peer = peers_.find(pid);
    if (p == producers_.end() || peer == peers_.end()) return;
    offer_consumer(*peer->second, *p->second);
  }
}

}  // namespace weir::control
