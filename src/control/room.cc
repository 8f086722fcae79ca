// Room: lookups, removal of what closes, and the stats answers.
#include "control/room.h"

#include <chrono>

#include "base/log.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/json_fields.h"
#include "control/webrtc_plumbing.h"
#include "control/webrtc_transport.h"
#include "dataplane/worker.h"

namespace weir::control {

using nlohmann::json;

namespace {

template <typename Map>
auto* find_in(Map& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : it->second.get();
}

// The id a protoo request names, e.g. data.transportId: a string, or the request is bad.
std::string id_field(const json& data, const char* key) {
  return require_string(data, "data", key);
}

double now_epoch_ms() {
  using namespace std::chrono;
  return static_cast<double>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

Room::Room(std::string id, json router_capabilities, dp::Worker* worker,
           const ControlConfig& config, DataplaneIds& ids, WebRtcPlumbing* plumbing,
           RoomWorkers workers)
    : id_(std::move(id)),
      router_capabilities_(std::move(router_capabilities)),
      worker_(worker),
      workers_(std::move(workers.all)),
      placement_(workers.placement),
      home_(workers.home),
      config_(config),
      ids_(ids),
      plumbing_(plumbing) {
  if (workers_.empty() || placement_ == nullptr || home_ >= workers_.size()) {
    workers_ = {worker_};
    placement_ = nullptr;
    home_ = 0;
  }
  worker_ = workers_[home_];
  if (config_.demo_bot) add_bot();
  arm_observer_timer();
}

Room::~Room() {
  *alive_ = false;
  if (observer_timer_) observer_timer_->cancel();
  close();
}

Peer& Room::broadcaster(const std::string& id) {
  Peer* b = find_in(peers_, id);
  if (!b || !b->is_broadcaster()) throw_not_found("broadcaster \"" + id + "\" not found");
  return *b;
}

Transport& Room::transport_of(const std::string& broadcaster_id, const std::string& transport_id) {
  broadcaster(broadcaster_id);
  Transport* t = find_in(transports_, transport_id);
  if (!t || t->broadcaster_id() != broadcaster_id) {
    throw_not_found("transport \"" + transport_id + "\" not found");
  }
  return *t;
}

Producer& Room::producer_of(const std::string& broadcaster_id, const std::string& producer_id) {
  broadcaster(broadcaster_id);
  Producer* p = find_in(producers_, producer_id);
  if (!p || p->peer_id != broadcaster_id) {
    throw_not_found("producer \"" + producer_id + "\" not found");
  }
  return *p;
}

Consumer& Room::consumer_of(const std::string& broadcaster_id, const std::string& consumer_id) {
  broadcaster(broadcaster_id);
  Consumer* c = find_in(consumers_, consumer_id);
  if (!c || c->peer_id != broadcaster_id) {
    throw_not_found("consumer \"" + consumer_id + "\" not found");
  }
  return *c;
}

// protoo lookups: only the peer's own objects, as the demo keeps them per peer.
Transport& Room::peer_transport(const Peer& peer, const json& data) {
  const std::string id = id_field(data, "transportId");
  Transport* t = find_in(transports_, id);
  if (!t || t->broadcaster_id() != peer.id) {
    throw_not_found("transport with id \"" + id + "\" not found");
  }
  return *t;
}

Producer& Room::peer_producer(const Peer& peer, const json& data) {
  const std::string id = id_field(data, "producerId");
  Producer* p = find_in(producers_, id);
  if (!p || p->peer_id != peer.id) throw_not_found("producer with id \"" + id + "\" not found");
  return *p;
}

Consumer& Room::peer_consumer(const Peer& peer, const json& data) {
  const std::string id = id_field(data, "consumerId");
  Consumer* c = find_in(consumers_, id);
  if (!c || c->peer_id != peer.id) throw_not_found("consumer with id \"" + id + "\" not found");
  return *c;
}

DataProducer& Room::peer_data_producer(const Peer& peer, const json& data) {
  const std::string id = id_field(data, "dataProducerId");
  DataProducer* p = find_in(data_producers_, id);
  if (!p || p->peer_id != peer.id) {
    throw_not_found("dataProducer with id \"" + id + "\" not found");
  }
  return *p;
}

DataConsumer& Room::peer_data_consumer(const Peer& peer, const json& data) {
  const std::string id = id_field(data, "dataConsumerId");
  DataConsumer* c = find_in(data_consumers_, id);
  if (!c || c->peer_id != peer.id) {
    throw_not_found("dataConsumer with id \"" + id + "\" not found");
  }
  return *c;
}

Transport* Room::consuming_transport(const Peer& peer) {
  for (const std::string& tid : peer.transport_ids) {
    auto role = transport_roles_.find(tid);
    if (role != transport_roles_.end() && role->second.consuming) return transports_.at(tid).get();
  }
  return nullptr;
}

WebRtcTransport* Room::webrtc(const std::string& transport_id) {
  Transport* t = find_in(transports_, transport_id);
  return t && t->is_webrtc() ? static_cast<WebRtcTransport*>(t) : nullptr;
}

// Every change is applied by the worker before the API answers: a client that sends media
// right after a 200 (pause, consume, connect) must find the dataplane already changed.
uint64_t Room::post_to(uint32_t worker, dp::Command command) {
  dp::Worker* w = workers_.at(worker);
  const uint64_t seq = w->post(std::move(command));
  w->wait_applied(seq);
  return seq;
}

uint32_t Room::worker_of_transport(const std::string& transport_id) const {
  auto role = transport_roles_.find(transport_id);
  return role == transport_roles_.end() ? home_ : role->second.worker;
}

void Room::remove(std::set<std::string> consumers, std::set<std::string> producers,
                  std::set<std::string> transports, std::set<std::string> data_consumers,
                  std::set<std::string> data_producers) {
  for (const auto& [pid, producer] : producers_) {
    if (transports.count(producer->transport_id)) producers.insert(pid);
  }
  for (const auto& [cid, consumer] : consumers_) {
    if (transports.count(consumer->transport_id) || producers.count(consumer->producer_id)) {
      consumers.insert(cid);
    }
  }
  for (const auto& [did, dp] : data_producers_) {
    if (transports.count(dp->transport_id)) data_producers.insert(did);
  }
  for (const auto& [did, dc] : data_consumers_) {
    if (transports.count(dc->transport_id) || data_producers.count(dc->data_producer_id)) {
      data_consumers.insert(did);
    }
  }
  // Consumers before their producers before their transports: the worker never holds a
  // route to something already gone. A WebRTC transport says goodbye (close_notify) first;
  // its record travels in order with these commands.
  for (const auto& tid : transports) {
    Transport& t = *transports_.at(tid);
    t.close();
    if (t.is_webrtc() && plumbing_) plumbing_->remove(static_cast<WebRtcTransport*>(&t));
  }
  // post_to waits for each: the workers have let go of the counters when this is done.
  for (const auto& cid : consumers) {
    const Consumer& consumer = *consumers_.at(cid);
    post_to(consumer.worker, dp::RemoveConsumer{consumer.dp_id});
    if (placement_) placement_->consumer_removed(consumer.worker);
    if (Producer* p = find_in(producers_, consumer.producer_id)) release_pipe(*p, consumer.worker);
  }
  for (const auto& pid : producers) {
    Producer& producer = *producers_.at(pid);
    post_to(producer.worker, dp::RemoveProducer{producer.dp_id});
    // Copies its consumers did not take down (every consumer went first, so none).
    for (const auto& [w, count] : producer.piped_consumers) {
      post_to(w, dp::RemoveProducer{producer.dp_id});
    }
    producer.piped_consumers.clear();
  }
  for (const auto& tid : transports) {
    const uint32_t w = worker_of_transport(tid);
    post_to(w, dp::RemoveTransport{transports_.at(tid)->dp_id()});
    if (placement_) placement_->transport_removed(w);
  }

  for (const auto& cid : consumers) {
    const Consumer& consumer = *consumers_.at(cid);
    if (Producer* p = find_in(producers_, consumer.producer_id)) p->consumer_ids.erase(cid);
    // Gone with its producer, not with its own transport: its endpoint must be told.
    if (!transports.count(consumer.transport_id)) {
      if (const Peer* owner = find_in(peers_, consumer.peer_id)) {
        notify(*owner, "consumerClosed", {{"consumerId", cid}});
      }
    }
    consumers_.erase(cid);
  }
  for (const auto& pid : producers) producers_.erase(pid);
  for (const auto& did : data_consumers) {
    const DataConsumer& dc = *data_consumers_.at(did);
    if (DataProducer* p = find_in(data_producers_, dc.data_producer_id)) {
      p->data_consumer_ids.erase(did);
    }
    if (!transports.count(dc.transport_id)) {
      if (WebRtcTransport* t = webrtc(dc.transport_id)) t->close_sctp_stream(dc.stream.stream_id);
      if (const Peer* owner = find_in(peers_, dc.peer_id)) {
        notify(*owner, "dataConsumerClosed", {{"dataConsumerId", did}});
      }
    }
    auto role = transport_roles_.find(dc.transport_id);
    if (role != transport_roles_.end()) role->second.data_stream_ids.erase(dc.stream.stream_id);
    data_consumers_.erase(did);
  }
  for (const auto& did : data_producers) {
    const DataProducer& p = *data_producers_.at(did);
    if (!transports.count(p.transport_id)) {
      if (WebRtcTransport* t = webrtc(p.transport_id)) t->close_sctp_stream(p.stream.stream_id);
    }
    data_producers_.erase(did);
  }
  for (const auto& tid : transports) {
    if (Peer* owner = find_in(peers_, transports_.at(tid)->broadcaster_id())) {
      std::erase(owner->transport_ids, tid);
    }
    transport_roles_.erase(tid);
    transports_.erase(tid);
  }
}

void Room::close() {
  std::set<std::string> transports;
  for (const auto& [tid, transport] : transports_) transports.insert(tid);
  // No one is told: every peer goes (their connections are the signaling layer's).
  std::map<std::string, std::unique_ptr<Peer>> peers = std::move(peers_);
  peers_.clear();
  remove({}, {}, transports);
}

json Room::transport_stats(const std::string& transport_id) const {
  const Transport* t = find_in(transports_, transport_id);
  if (!t) throw_not_found("transport \"" + transport_id + "\" not found");
  json items = t->stats();
  const dp::Worker* worker = workers_[worker_of_transport(transport_id)];
  if (!items.empty() && worker != nullptr) items[0]["worker"] = worker->index();
  return items;
}

json Room::producer_stats_items(const Producer& p) const {
  const dp::ProducerCounters& c = *p.counters;
  json item = {{"type", "inbound-rtp"},
               {"timestamp", now_epoch_ms()},
               {"producerId", p.id},
               {"ssrc", p.ssrc},
               {"kind", p.kind},
               {"mimeType", p.mime_type},
               {"packetCount", c.packets.get()},
               {"byteCount", c.bytes.get()},
               {"packetsLost", c.lost.get()},
               {"fractionLost", c.fraction_lost.get()},
               {"jitter", c.jitter.get()},
               {"nackCount", c.nacked.get()},
               {"packetsRetransmitted", c.retransmitted.get()},
               {"keyFrames", c.keyframes.get()},
               {"keyFrameRequests", c.keyframe_requests.get()},
               {"paused", p.paused},
               {"dropped", drop_counters_json(c.dropped)}};
  if (!p.scores.empty()) item["score"] = p.scores[0];
  json items = json::array();
  const json& encodings = p.rtp_parameters["encodings"];
  if (encodings.size() <= 1) {
    items.push_back(std::move(item));
    return items;
  }
  // Simulcast: one item per encoding; the stream-wide counters stay on the first.
  for (size_t i = 0; i < encodings.size() && i < dp::kMaxSimulcastEncodings; ++i) {
    json e = i == 0 ? item
                    : json{{"type", "inbound-rtp"},
                           {"kind", p.kind},
                           {"mimeType", p.mime_type},
                           {"timestamp", item["timestamp"]}};
    e["encodingIdx"] = i;
    if (encodings[i].contains("rid")) e["rid"] = encodings[i]["rid"];
    if (encodings[i].contains("ssrc")) e["ssrc"] = encodings[i]["ssrc"];
    e["encodingPacketCount"] = c.encoding_packets[i].get();
    if (i < p.scores.size()) e["score"] = p.scores[i];
    items.push_back(std::move(e));
  }
  return items;
}

json Room::producer_stats(const std::string& producer_id) const {
  const Producer* p = find_in(producers_, producer_id);
  if (!p) throw_not_found("producer \"" + producer_id + "\" not found");
  return producer_stats_items(*p);
}

json Room::consumer_stats(const std::string& consumer_id) const {
  const Consumer* c = find_in(consumers_, consumer_id);
  if (!c) throw_not_found("consumer \"" + consumer_id + "\" not found");
  const Producer& p = *producers_.at(c->producer_id);
  const dp::ConsumerCounters& k = *c->counters;
  json item = {{"type", "outbound-rtp"},
               {"timestamp", now_epoch_ms()},
               {"consumerId", c->id},
               {"ssrc", c->ssrc},
               {"kind", c->kind},
               {"mimeType", c->mime_type},
               {"packetCount", k.packets.get()},
               {"byteCount", k.bytes.get()},
               {"roundTripTime", static_cast<double>(k.rtt_us.get()) / 1000.0},  // ms
               {"fractionLost", k.reported_fraction_lost.get()},
               {"packetsLost", k.reported_lost.get()},
               {"nackCount", k.nacked.get()},
               {"packetsRetransmitted", k.retransmitted.get()},
               {"pliCount", k.keyframe_requests.get()},
               {"score", c->score},
               {"priority", c->priority},
               {"paused", c->paused},
               {"producerPaused", p.paused},
               {"dropped", drop_counters_json(k.dropped)}};
  if (workers_[c->worker] != nullptr) item["worker"] = workers_[c->worker]->index();
  if (p.type != "simple") {
    const uint64_t layer = k.current_spatial_layer.get();
    item["spatialLayer"] = layer == 0 ? json(nullptr) : json(layer - 1);
    // 0xFF: the highest there is.
    item["preferredSpatialLayer"] =
        c->preferred_spatial_layer == 0xFF ? p.spatial_layers - 1 : int{c->preferred_spatial_layer};
    item["preferredTemporalLayer"] = c->preferred_temporal_layer == 0xFF
                                         ? p.temporal_layers - 1
                                         : int{c->preferred_temporal_layer};
  }
  json items = json::array({std::move(item)});
  for (json& producer_item : producer_stats_items(p)) items.push_back(std::move(producer_item));
  return items;
}

json Room::data_producer_stats(const std::string& data_producer_id) const {
  const DataProducer* p = find_in(data_producers_, data_producer_id);
  if (!p) throw_not_found("dataProducer with id \"" + data_producer_id + "\" not found");
  return json::array({{{"type", "data-producer"},
                       {"timestamp", now_epoch_ms()},
                       {"label", p->label},
                       {"protocol", p->protocol},
                       {"messagesReceived", p->messages_received},
                       {"bytesReceived", p->bytes_received}}});
}

json Room::data_consumer_stats(const std::string& data_consumer_id) const {
  const DataConsumer* c = find_in(data_consumers_, data_consumer_id);
  if (!c) throw_not_found("dataConsumer with id \"" + data_consumer_id + "\" not found");
  return json::array({{{"type", "data-consumer"},
                       {"timestamp", now_epoch_ms()},
                       {"label", c->label},
                       {"protocol", c->protocol},
                       {"messagesSent", c->messages_sent},
                       {"bytesSent", c->bytes_sent},
                       {"messagesDropped", c->messages_dropped},
                       {"bufferedAmount", 0}}});
}

}  // namespace weir::control
