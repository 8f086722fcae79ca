// Room: the protoo request table (contract 2). Handler errors are answered 500 with the
// message, as protoo-server does for a thrown Error; the network-throttle test hooks,
// which weir does not implement, are answered 403 as the demo does without its secret.
#include <algorithm>

#include "base/log.h"
#include "control/control_error.h"
#include "control/json_fields.h"
#include "control/room.h"
#include "control/rtp_validation.h"
#include "control/webrtc_plumbing.h"
#include "control/webrtc_transport.h"

namespace weir::control {

using nlohmann::json;

namespace {

// Methods that need a joined peer (contract 2, last paragraph).
bool needs_join(const std::string& method) {
  static const char* const kMethods[] = {"produce",
                                         "closeProducer",
                                         "pauseProducer",
                                         "resumeProducer",
                                         "pauseConsumer",
                                         "resumeConsumer",
                                         "setConsumerPreferredLayers",
                                         "setConsumerPriority",
                                         "requestConsumerKeyFrame",
                                         "produceData",
                                         "changeDisplayName"};
  return std::any_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return method == m; });
}

// {numStreams: {OS, MIS}}; both numbers (contract 5.4).
std::pair<uint16_t, uint16_t> parse_sctp_capabilities(const json& value, const std::string& path) {
  if (!value.is_object()) throw_wrong_type(path, "an object");
  const json& num = require_object(value, path, "numStreams");
  const std::string num_path = field_path(path, "numStreams");
  return {static_cast<uint16_t>(require_integer(num, num_path, "OS", 1, 65535)),
          static_cast<uint16_t>(require_integer(num, num_path, "MIS", 1, 65535))};
}

}  // namespace

void Room::peer_request(const std::string& peer_id, const PeerChannel* channel,
                        const std::string& method, const json& data,
                        const std::function<void(ApiResult)>& respond) {
  Peer* peer = peer_with_channel(peer_id, channel);
  if (!peer) {
    respond(ApiResult::error(500, "peer \"" + peer_id + "\" is not connected"));
    return;
  }
  if (method == "applyNetworkThrottle" || method == "resetNetworkThrottle") {
    respond(ApiResult::error(403, "operation not allowed: weir has no network throttle"));
    return;
  }
  std::function<void()> then;
  ApiResult result;
  try {
    result = ApiResult::ok(handle(*peer, method, data.is_null() ? json::object() : data, then));
  } catch (const ControlError& e) {
    LOG_DEBUG("control", "room %s: peer %s: %s: %s", id_.c_str(), peer_id.c_str(), method.c_str(),
              e.what());
    result = ApiResult::error(500, e.what());
    then = nullptr;
  } catch (const std::exception& e) {
    LOG_ERROR("control", "room %s: peer %s: %s failed: %s", id_.c_str(), peer_id.c_str(),
              method.c_str(), e.what());
    result = ApiResult::error(500, std::string("internal error: ") + e.what());
    then = nullptr;
  }
  respond(std::move(result));
  if (!then) return;
  try {
    then();
  } catch (const std::exception& e) {
    LOG_ERROR("control", "room %s: peer %s: after %s: %s", id_.c_str(), peer_id.c_str(),
              method.c_str(), e.what());
  }
}

json Room::handle(Peer& peer, const std::string& method, const json& data,
                  std::function<void()>& then) {
  if (needs_join(method) && !peer.joined) throw_refused("Peer not yet joined");

  if (method == "getRouterRtpCapabilities") return router_capabilities_;
  if (method == "createWebRtcTransport") return create_webrtc_transport(peer, data);
  if (method == "connectWebRtcTransport") {
    Transport& t = peer_transport(peer, data);
    for (auto& command : t.connect(data)) post_to(worker_of_transport(t.id()), std::move(command));
    return json::object();
  }
  if (method == "restartIce") {
    Transport& t = peer_transport(peer, data);
    if (!t.is_webrtc()) throw_refused("restartIce: not a WebRTC transport");
    auto& webrtc = static_cast<WebRtcTransport&>(t);
    json answer = webrtc.restart_ice();
    plumbing_->add_username_fragment(&webrtc, answer["usernameFragment"].get<std::string>());
    return answer;
  }
  if (method == "join") return join(peer, data, then);
  if (method == "produce") return produce(peer, data, then);
  if (method == "closeProducer") {
    remove({}, {peer_producer(peer, data).id}, {});
    return json::object();
  }
  if (method == "pauseProducer" || method == "resumeProducer") {
    pause_producer(peer_producer(peer, data), method == "pauseProducer");
    return json::object();
  }
  if (method == "pauseConsumer" || method == "resumeConsumer") {
    pause_consumer(peer_consumer(peer, data), method == "pauseConsumer");
    return json::object();
  }
  if (method == "setConsumerPreferredLayers") {
    set_preferred_layers(peer_consumer(peer, data), data);
    return json::object();
  }
  if (method == "setConsumerPriority") {
    Consumer& consumer = peer_consumer(peer, data);
    // mediasoup refuses priorities below 1 (the weight of a share of the bandwidth).
    consumer.priority = static_cast<int>(require_integer(data, "data", "priority", 1, 255));
    return json::object();
  }
  if (method == "requestConsumerKeyFrame") {
    const Consumer& consumer = peer_consumer(peer, data);
    post_to(consumer.worker, dp::RequestConsumerKeyFrame{consumer.dp_id});
    return json::object();
  }
  if (method == "produceData") return produce_data_for(peer, data, then);
  if (method == "changeDisplayName") {
    const std::string display_name = require_string(data, "data", "displayName");
    const std::string old = peer.display_name;
    peer.display_name = display_name;
    notify_joined_except(
        peer.id, "peerDisplayNameChanged",
        {{"peerId", peer.id}, {"displayName", display_name}, {"oldDisplayName", old}});
    return json::object();
  }
  if (method == "getTransportStats") return peer_transport(peer, data).stats();
  if (method == "getProducerStats") return producer_stats_items(peer_producer(peer, data));
  if (method == "getConsumerStats") return consumer_stats(peer_consumer(peer, data).id);
  if (method == "getDataProducerStats") {
    return data_producer_stats(peer_data_producer(peer, data).id);
  }
  if (method == "getDataConsumerStats") {
    return data_consumer_stats(peer_data_consumer(peer, data).id);
  }
  throw_refused("unknown request.method \"" + method + "\"");
}

json Room::join(Peer& peer, const json& data, std::function<void()>& then) {
  if (peer.joined) throw_refused("Peer already joined");
  if (!data.is_object()) throw_wrong_type("data", "an object");
  const std::string display_name = optional_string(data, "data", "displayName").value_or("");
  json device = json::object();
  if (const json* given = find_field(data, "data", "device")) {
    if (!given->is_object()) throw_wrong_type("data.device", "an object");
    device = *given;
  }
  std::optional<json> caps;
  if (const json* given = find_field(data, "data", "rtpCapabilities")) {
    caps = *given;
    validate_rtp_capabilities(*caps, "data.rtpCapabilities");
  }
  std::optional<json> sctp;
  if (const json* given = find_field(data, "data", "sctpCapabilities")) {
    parse_sctp_capabilities(*given, "data.sctpCapabilities");
    sctp = *given;
  }
  // Contract 3.2: stored and joined, answered, then consumers, then newPeer.
  peer.display_name = display_name;
  peer.device = std::move(device);
  peer.rtp_capabilities = std::move(caps);
  peer.sctp_capabilities = std::move(sctp);
  peer.joined = true;
  json peers = json::array();
  for (const std::string& other_id : in_order(peers_)) {
    const Peer& other = *peers_.at(other_id);
    if (other_id != peer.id && other.joined) peers.push_back(other.info());
  }
  const std::string peer_id = peer.id;
  then = [this, peer_id] {
    auto it = peers_.find(peer_id);
    if (it == peers_.end()) return;
    offer_everything_to(*it->second);
    it = peers_.find(peer_id);  // an answer may have closed it meanwhile
    if (it == peers_.end()) return;
    notify_joined_except(peer_id, "newPeer", it->second->info());
  };
  LOG_INFO("control", "room %s: peer %s joined (%s)", id_.c_str(), peer_id.c_str(),
           display_name.c_str());
  return {{"peers", std::move(peers)}};
}

json Room::create_webrtc_transport(Peer& peer, const json& data) {
  if (!data.is_object()) throw_wrong_type("data", "an object");
  // forceTcp: weir has no ICE-TCP; the UDP candidates are answered, which browsers use.
  optional_bool(data, "data", "forceTcp", false);
  TransportRole role;
  role.producing = optional_bool(data, "data", "producing", false);
  role.consuming = optional_bool(data, "data", "consuming", false);
  std::optional<std::pair<uint16_t, uint16_t>> streams;
  if (const json* sctp = find_field(data, "data", "sctpCapabilities")) {
    streams = parse_sctp_capabilities(*sctp, "data.sctpCapabilities");
    role.sctp_mis = streams->second;
  }
  Transport& transport = add_transport(peer, "webrtc", data, role);
  // SCTP is on for every WebRTC transport (field notes); the peer's numbers when given.
  if (streams) {
    static_cast<WebRtcTransport&>(transport).set_sctp_streams(streams->first, streams->second);
  }
  return transport.describe();
}

// mediasoup-client always connects a transport before it produces or opens a data
// producer on it; a client that does not has lost track of its transports, and is told so
// rather than left with a producer that may never receive anything.
static void require_connected(const Transport& transport, const std::string& transport_id) {
  if (transport.is_webrtc() && !static_cast<const WebRtcTransport&>(transport).connect_called()) {
    throw_refused("transport with id \"" + transport_id +
                  "\" is not connected (connectWebRtcTransport first)");
  }
}

json Room::produce(Peer& peer, const json& data, std::function<void()>& then) {
  Transport& transport = peer_transport(peer, data);
  require_connected(transport, data.value("transportId", ""));
  Producer& producer = add_producer(peer, transport, data, "data");
  const std::string producer_id = producer.id;
  then = [this, producer_id] {
    auto it = producers_.find(producer_id);
    if (it != producers_.end()) offer_to_others(*it->second);
  };
  return {{"id", producer_id}};
}

json Room::produce_data_for(Peer& peer, const json& data, std::function<void()>& then) {
  Transport& transport = peer_transport(peer, data);
  require_connected(transport, data.value("transportId", ""));
  DataProducer& data_producer = add_data_producer(peer, transport, data, "data");
  const std::string id = data_producer.id;
  // DEMO: "chat" goes to every other joined peer; "bot" only to the server bot.
  if (data_producer.label == "chat") {
    const std::string peer_id = peer.id;
    then = [this, id, peer_id] {
      std::vector<std::string> others;
      for (const std::string& pid : in_order(peers_)) {
        const Peer& p = *peers_.at(pid);
        if (pid != peer_id && p.joined && !p.is_broadcaster()) others.push_back(pid);
      }
      for (const std::string& pid : others) {
        auto d = data_producers_.find(id);
        auto p = peers_.find(pid);
        if (d == data_producers_.end()) return;
        if (p != peers_.end()) offer_data_consumer(*p->second, *d->second);
      }
    };
  }
  return {{"id", id}};
}

void Room::set_preferred_layers(Consumer& consumer, const json& data) {
  const int64_t spatial = require_integer(data, "data", "spatialLayer", 0, 255);
  const std::optional<int64_t> temporal = optional_integer(data, "data", "temporalLayer", 0, 255);
  const Producer& producer = *producers_.at(consumer.producer_id);
  if (producer.type == "simple") return;  // one layer: nothing to choose (as mediasoup)
  // Clamped to the layers that exist; no temporal layer given: the highest.
  const auto s = static_cast<uint8_t>(std::min<int64_t>(spatial, producer.spatial_layers - 1));
  const auto t = static_cast<uint8_t>(std::min<int64_t>(
      temporal.value_or(producer.temporal_layers - 1), producer.temporal_layers - 1));
  consumer.preferred_spatial_layer = s;
  consumer.preferred_temporal_layer = t;
  post_to(consumer.worker, dp::SetConsumerPreferredLayers{consumer.dp_id, s, t});
}

}  // namespace weir::control
