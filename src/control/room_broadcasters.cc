// Room: the broadcaster HTTP API (contract 7). A broadcaster is a peer without a channel:
// the joined protoo peers hear of it (newPeer, peerClosed) and consume what it produces.
#include "base/log.h"
#include "control/control_error.h"
#include "control/json_fields.h"
#include "control/ortc.h"
#include "control/room.h"
#include "control/rtp_validation.h"
#include "control/webrtc_plumbing.h"
#include "control/webrtc_transport.h"

namespace weir::control {

using nlohmann::json;

json Room::create_broadcaster(const json& body) {
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string id = require_string(body, "body", "id");
  if (id.empty()) throw_invalid("invalid field body.id (must not be empty)");
  const std::string display_name = require_string(body, "body", "displayName");
  const json& device = require_object(body, "body", "device");
  const std::string device_name = require_string(device, "body.device", "name");
  const auto device_version = optional_string(device, "body.device", "version");
  std::optional<json> caps;
  if (const json* given = find_field(body, "body", "rtpCapabilities")) {
    caps = *given;
    validate_rtp_capabilities(*caps, "body.rtpCapabilities");
  }
  if (peers_.count(id)) throw_refused("broadcaster with id \"" + id + "\" already exists");

  // The peers it can see (joined protoo peers and the other broadcasters), with what it
  // could consume of theirs; nothing without rtpCapabilities (contract 7).
  json peers = json::array();
  if (caps) {
    for (const auto& [other_id, other] : peers_) {
      if (!other->joined) continue;
      json producers = json::array();
      for (const auto& [pid, producer] : producers_) {
        if (producer->peer_id != other_id) continue;
        if (!can_consume(producer->consumable_parameters, *caps)) continue;
        producers.push_back({{"id", pid}, {"kind", producer->kind}});
      }
      json info = other->info();
      info["producers"] = std::move(producers);
      peers.push_back(std::move(info));
    }
  }

  auto b = std::make_unique<Peer>();
  b->id = id;
  b->order = next_order_++;
  b->display_name = display_name;
  b->device = {{"flag", "broadcaster"}, {"name", device_name}};
  if (device_version) b->device["version"] = *device_version;
  b->rtp_capabilities = std::move(caps);
  b->joined = true;
  const json info = b->info();
  peers_.emplace(id, std::move(b));
  notify_joined_except(id, "newPeer", info);
  LOG_INFO("control", "room %s: broadcaster %s created", id_.c_str(), id.c_str());
  return {{"peers", std::move(peers)}};
}

void Room::delete_broadcaster(const std::string& broadcaster_id) {
  broadcaster(broadcaster_id);
  close_peer(broadcaster_id, false);
  LOG_INFO("control", "room %s: broadcaster %s deleted", id_.c_str(), broadcaster_id.c_str());
}

json Room::create_transport(const std::string& broadcaster_id, const json& body) {
  Peer& b = broadcaster(broadcaster_id);
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string type = require_string(body, "body", "type");
  if (type != "plain" && type != "webrtc") {
    throw_wrong_type("body.type", "\"plain\" or \"webrtc\"");
  }
  std::optional<std::pair<uint16_t, uint16_t>> streams;
  if (type == "webrtc") {
    if (const json* sctp = find_field(body, "body", "sctpCapabilities")) {
      const json& num = require_object(*sctp, "body.sctpCapabilities", "numStreams");
      streams = {static_cast<uint16_t>(
                     require_integer(num, "body.sctpCapabilities.numStreams", "OS", 1, 65535)),
                 static_cast<uint16_t>(
                     require_integer(num, "body.sctpCapabilities.numStreams", "MIS", 1, 65535))};
    }
  }
  TransportRole role;
  if (streams) role.sctp_mis = streams->second;
  Transport& transport = add_transport(b, type, body, role);
  if (streams)
    static_cast<WebRtcTransport&>(transport).set_sctp_streams(streams->first, streams->second);
  return transport.describe();
}

void Room::connect_transport(const std::string& broadcaster_id, const std::string& transport_id,
                             const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  for (auto& command : transport.connect(body)) {
    post_to(worker_of_transport(transport.id()), std::move(command));
  }
}

json Room::restart_ice(const std::string& broadcaster_id, const std::string& transport_id) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  if (!transport.is_webrtc()) throw_refused("restartIce: not a WebRTC transport");
  auto& webrtc = static_cast<WebRtcTransport&>(transport);
  json answer = webrtc.restart_ice();
  plumbing_->add_username_fragment(&webrtc, answer["usernameFragment"].get<std::string>());
  return answer;
}

json Room::create_producer(const std::string& broadcaster_id, const std::string& transport_id,
                           const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  Producer& producer = add_producer(broadcaster(broadcaster_id), transport, body, "body");
  const json answer = {{"id", producer.id}};
  offer_to_others(producer);  // contract 7: a newConsumer to every joined peer
  return answer;
}

json Room::consume(const std::string& broadcaster_id, const std::string& transport_id,
                   const std::string& producer_id, const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  const Peer& b = broadcaster(broadcaster_id);
  if (producer_id.empty()) throw_missing("query.producerId");
  const bool paused = body.is_null() ? false : optional_bool(body, "body", "paused", false);
  if (!b.rtp_capabilities) throw_refused("broadcaster does not have rtpCapabilities");
  auto it = producers_.find(producer_id);
  if (it == producers_.end()) throw_not_found("producer \"" + producer_id + "\" not found");
  Producer& producer = *it->second;
  if (!can_consume(producer.consumable_parameters, *b.rtp_capabilities)) {
    throw_refused("cannot consume producer \"" + producer_id +
                  "\" with the broadcaster's rtpCapabilities");
  }
  Consumer& consumer = add_consumer(b, transport, producer, paused);
  return {{"id", consumer.id},     {"producerId", producer_id},
          {"kind", producer.kind}, {"rtpParameters", consumer.rtp_parameters()},
          {"type", producer.type}, {"producerPaused", producer.paused}};
}

json Room::produce_data(const std::string& broadcaster_id, const std::string& transport_id,
                        const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  // The demo creates no data consumers for a broadcaster's data producer (contract 7).
  DataProducer& dp = add_data_producer(broadcaster(broadcaster_id), transport, body, "body");
  return {{"id", dp.id}};
}

json Room::consume_data(const std::string& broadcaster_id, const std::string& transport_id,
                        const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  const Peer& b = broadcaster(broadcaster_id);
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string data_producer_id = require_string(body, "body", "dataProducerId");
  // A demo quirk kept for parity: consuming data needs rtpCapabilities too.
  if (!b.rtp_capabilities) throw_refused("broadcaster does not have rtpCapabilities");
  auto it = data_producers_.find(data_producer_id);
  if (it == data_producers_.end()) {
    throw_not_found("dataProducer \"" + data_producer_id + "\" not found");
  }
  DataConsumer& dc = add_data_consumer(b, transport, *it->second);
  return {{"id", dc.id}, {"streamId", dc.stream.stream_id}};
}

void Room::set_producer_paused(const std::string& broadcaster_id, const std::string& producer_id,
                               bool paused) {
  pause_producer(producer_of(broadcaster_id, producer_id), paused);
}

void Room::set_consumer_paused(const std::string& broadcaster_id, const std::string& consumer_id,
                               bool paused) {
  pause_consumer(consumer_of(broadcaster_id, consumer_id), paused);
}

void Room::close_producer(const std::string& broadcaster_id, const std::string& producer_id) {
  producer_of(broadcaster_id, producer_id);
  remove({}, {producer_id}, {});
}

void Room::close_consumer(const std::string& broadcaster_id, const std::string& consumer_id) {
  consumer_of(broadcaster_id, consumer_id);
  remove({consumer_id}, {}, {});
}

}  // namespace weir::control
