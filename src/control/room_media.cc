// Room: transports, producers and consumers, the same for protoo peers and broadcasters.
#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/log.h"
#include "control/codec_matching.h"
#include "control/control_error.h"
#include "control/json_fields.h"
#include "control/ortc.h"
#include "control/plain_transport.h"
#include "control/random_ids.h"
#include "control/room.h"
#include "control/rtp_validation.h"
#include "control/webrtc_plumbing.h"
#include "control/webrtc_transport.h"
#include "dataplane/worker.h"
#include "wire/codec_payload.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr const char* kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr const char* kRidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
constexpr const char* kRridExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
constexpr const char* kAudioLevelExtensionUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
constexpr const char* kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
// Producer history kept for the consumers' NACKs: about a second of video at 2.5 Mbit/s.
constexpr uint16_t kVideoRetransmissionPackets = 256;
constexpr uint16_t kAudioRetransmissionPackets = 64;

bool has_feedback(const json& codec, const char* type, const char* parameter) {
  for (const json& fb : codec.value("rtcpFeedback", json::array())) {
    if (fb.value("type", "") == type && fb.value("parameter", "") == parameter) return true;
  }
  return false;
}

uint8_t extension_id(const json& params, const char* uri) {
  for (const json& ext : params.value("headerExtensions", json::array())) {
    if (ext.value("uri", "") == uri) return ext["id"].get<uint8_t>();
  }
  return 0;
}

// A MID or RID into the command's fixed field; longer ones cannot be matched on the wire.
template <size_t N>
uint8_t copy_token(const std::string& value, std::array<char, N>& out, const std::string& path) {
  if (value.size() > N) {
    throw_invalid("invalid field " + path + " (longer than " + std::to_string(N) + " characters)");
  }
  out.fill(0);
  std::copy(value.begin(), value.end(), out.begin());
  return static_cast<uint8_t>(value.size());
}

}  // namespace

Transport& Room::add_transport(Peer& owner, const std::string& type, const json& body,
                               TransportRole role) {
  std::unique_ptr<Transport> transport;
  const std::string id = generate_uuid_v4();
  // Below the spread threshold the room's home worker; beyond it the least-loaded one.
  const uint32_t w = placement_ ? placement_->place_transport(home_, consumers_.size()) : home_;
  dp::Worker* worker = workers_[w];
  role.worker = w;
  if (type == "plain") {
    PlainTransportOptions options =
        parse_plain_transport_options(body, config_.listen_ip, config_.rtc_min_port,
                                      config_.rtc_max_port, config_.announced_address);
    if (!worker) throw_refused("no dataplane worker to run the transport");
    options.ports = config_.udp_ports;
    options.worker = worker->index();
    transport = std::make_unique<PlainTransport>(id, ids_.next_transport++, owner.id, options);
  } else {
    if (!worker) throw_refused("no dataplane worker to run the transport");
    if (!plumbing_) throw_refused("this server runs no WebRTC (no control event loop)");
    WebRtcTransportOptions options;
    options.listen_ip = config_.listen_ip;
    options.announced_ip = config_.announced_address;
    options.min_port = config_.rtc_min_port;
    options.max_port = config_.rtc_max_port;
    options.shared_port = config_.webrtc_shared_port;
    options.consent_timeout_ms = config_.ice_consent_timeout_ms;
    options.certificate = config_.dtls_certificate;
    options.ports = config_.udp_ports;
    auto webrtc = std::make_unique<WebRtcTransport>(
        id, ids_.next_transport++, owner.id, options, *worker, plumbing_->io(),
        [this](const WebRtcTransportEvent& event) { on_webrtc_event(event); });
    webrtc->set_sctp_message_handler(
        [this, id](const SctpMessage& message) { on_sctp_message(id, message); });
    plumbing_->add(webrtc.get());
    transport = std::move(webrtc);
  }
  post_to(w, transport->take_add_command());
  if (placement_) placement_->transport_added(w);
  owner.transport_ids.push_back(id);
  transport_roles_[id] = std::move(role);
  return *transports_.emplace(id, std::move(transport)).first->second;
}

void Room::on_webrtc_event(const WebRtcTransportEvent& event) {
  LOG_DEBUG("control", "room %s: transport %s %s %s", id_.c_str(), event.transport_id.c_str(),
            event.kind == WebRtcTransportEvent::Kind::ice_state    ? "iceState"
            : event.kind == WebRtcTransportEvent::Kind::dtls_state ? "dtlsState"
            : event.kind == WebRtcTransportEvent::Kind::sctp_state ? "sctpState"
                                                                   : "iceSelectedTuple",
            event.value.c_str());
  // DEMO policy (contract 1.3): a protoo peer whose transport lost ICE or DTLS is closed
  // whole. Not here and now: the transport is inside its own callback, and closing the
  // peer destroys it. The loop runs it next, if the transport is still there.
  const bool fatal = (event.kind == WebRtcTransportEvent::Kind::ice_state &&
                      (event.value == "disconnected" || event.value == "closed")) ||
                     (event.kind == WebRtcTransportEvent::Kind::dtls_state &&
                      (event.value == "failed" || event.value == "closed"));
  if (!fatal || !plumbing_) return;
  auto it = transports_.find(event.transport_id);
  if (it == transports_.end()) return;  // already leaving (this is its close)
  const std::string peer_id = it->second->broadcaster_id();
  const Peer* owner = peers_.count(peer_id) ? peers_.at(peer_id).get() : nullptr;
  if (!owner || owner->is_broadcaster()) return;
  LOG_INFO("control", "room %s: peer %s: transport %s %s %s: closing the peer", id_.c_str(),
           peer_id.c_str(), event.transport_id.c_str(),
           event.kind == WebRtcTransportEvent::Kind::ice_state ? "ICE" : "DTLS",
           event.value.c_str());
  std::weak_ptr<bool> alive = alive_;
  const std::string transport_id = event.transport_id;
  boost::asio::post(plumbing_->io(), [this, alive, transport_id, peer_id] {
    if (alive.expired()) return;
    auto t = transports_.find(transport_id);
    if (t == transports_.end() || t->second->broadcaster_id() != peer_id) return;
    close_peer(peer_id, true);
    if (empty() && on_empty_) on_empty_();
  });
}

Producer& Room::add_producer(Peer& owner, Transport& transport, const json& data,
                             const std::string& path) {
  if (!data.is_object()) throw_wrong_type(path, "an object");
  const std::string kind = require_string(data, path, "kind");
  if (kind != "audio" && kind != "video") {
    throw_wrong_type(field_path(path, "kind"), "\"audio\" or \"video\"");
  }
  const std::string params_path = field_path(path, "rtpParameters");
  json params = require_object(data, path, "rtpParameters");
  validate_rtp_parameters(params, params_path);
  const bool paused = optional_bool(data, path, "paused", false);
  json app_data = json::object();
  if (const json* given = find_field(data, path, "appData")) {
    if (!given->is_object()) throw_wrong_type(field_path(path, "appData"), "an object");
    app_data = *given;
  }
  validate_producer_rtp_parameters(params, kind, params_path);

  const json& encodings = params["encodings"];
  const std::string encodings_path = field_path(params_path, "encodings");
  if (encodings.size() > dp::kMaxSimulcastEncodings) {
    throw_refused("at most " + std::to_string(dp::kMaxSimulcastEncodings) +
                  " encodings are supported");
  }
  dp::AddProducer add{};
  add.mid_ext_id = extension_id(params, kMidExtensionUri);
  add.rid_ext_id = extension_id(params, kRidExtensionUri);
  add.rrid_ext_id = extension_id(params, kRridExtensionUri);
  add.audio_level_ext_id = kind == "audio" ? extension_id(params, kAudioLevelExtensionUri) : 0;
  add.mid_len = 0;
  add.mid.fill(0);
  if (params.contains("mid")) {
    add.mid_len =
        copy_token(params["mid"].get<std::string>(), add.mid, field_path(params_path, "mid"));
  }
  // How the worker recognises the streams (contract 6.3 step 9): by SSRC where signaled,
  // else by RID (simulcast), else by MID (one stream).
  for (size_t i = 0; i < encodings.size(); ++i) {
    const json& e = encodings[i];
    if (e.contains("ssrc")) continue;
    if (e.contains("rid") && add.rid_ext_id == 0) {
      throw_invalid("invalid field " + field_path(index_path(encodings_path, i), "rid") +
                    " (the rtp-stream-id header extension is not negotiated)");
    }
    if (!e.contains("rid") && (add.mid_ext_id == 0 || add.mid_len == 0)) {
      throw_invalid("missing field " + field_path(index_path(encodings_path, i), "ssrc") +
                    " (no rid, and the MID header extension is not negotiated)");
    }
  }
  add.encoding_count = encodings.size() > 1 ? static_cast<uint8_t>(encodings.size()) : 0;
  for (size_t i = 0; add.encoding_count && i < encodings.size(); ++i) {
    const json& e = encodings[i];
    dp::ProducerEncoding& out = add.encodings[i];
    out.ssrc = e.contains("ssrc") ? e["ssrc"].get<uint32_t>() : 0;
    out.rtx_ssrc = e.contains("rtx") ? e["rtx"]["ssrc"].get<uint32_t>() : 0;
    if (e.contains("rid")) {
      out.rid_len = copy_token(e["rid"].get<std::string>(), out.rid,
                               field_path(index_path(encodings_path, i), "rid"));
    }
  }
  const json& first = encodings[0];
  const uint32_t ssrc = first.contains("ssrc") ? first["ssrc"].get<uint32_t>() : 0;
  const RtpMapping mapping =
      get_producer_rtp_parameter_mapping(params, router_capabilities_, generate_random_ssrc());
  params["rtcp"]["cname"] = transport.cname_for_producer(params["rtcp"]);

  auto producer = std::make_unique<Producer>();
  producer->id = generate_uuid_v4();
  producer->order = next_order_++;
  producer->dp_id = ids_.next_producer++;
  producer->peer_id = owner.id;
  producer->transport_id = transport.id();
  producer->kind = kind;
  producer->type = producer_type(params);
  producer->ssrc = ssrc;
  producer->paused = paused;
  const ScalabilityMode mode = parse_scalability_mode(first.value("scalabilityMode", ""));
  producer->spatial_layers =
      encodings.size() > 1 ? static_cast<int>(encodings.size()) : mode.spatial_layers;
  producer->temporal_layers = mode.temporal_layers;
  producer->consumable_parameters =
      get_consumable_rtp_parameters(kind, params, router_capabilities_, mapping);
  app_data["peerId"] = owner.id;  // DEMO: consumers' appData names the producing peer
  producer->app_data = std::move(app_data);

  add.id = producer->dp_id;
  add.transport = transport.dp_id();
  add.ssrc = add.encoding_count ? 0 : ssrc;
  add.rtx_ssrc =
      !add.encoding_count && first.contains("rtx") ? first["rtx"]["ssrc"].get<uint32_t>() : 0;
  add.paused = paused;
  add.pt_map.fill(dp::kNoMapping);
  for (const auto& m : mapping.codecs) {
    add.pt_map[static_cast<size_t>(m.payload_type)] = static_cast<uint8_t>(m.mapped_payload_type);
  }
  add.ext_map.fill(0);
  for (const json& ext : params["headerExtensions"]) {
    for (const json& router_ext : router_capabilities_["headerExtensions"]) {
      if (router_ext["kind"] == kind && router_ext["uri"] == ext["uri"]) {
        add.ext_map[ext["id"].get<size_t>()] = router_ext["preferredId"].get<uint8_t>();
      }
    }
  }
  add.keyframe_request = dp::KeyFrameRequest::none;
  add.nack = false;
  add.twcc_ext_id = extension_id(params, kTransportCcUri);
  add.retransmission_packets =
      kind == "video" ? kVideoRetransmissionPackets : kAudioRetransmissionPackets;
  add.rtx_apt.fill(dp::kNoMapping);
  for (const json& codec : params["codecs"]) {
    if (!is_rtx_codec(codec)) continue;
    const json& apt = codec["parameters"]["apt"];
    if (apt.is_number_integer()) {
      add.rtx_apt[codec["payloadType"].get<size_t>() & 0x7F] = apt.get<uint8_t>();
    }
  }
  for (const json& codec : params["codecs"]) {
    if (is_rtx_codec(codec)) continue;
    add.nack = has_feedback(codec, "nack", "");
    add.remb = add.twcc_ext_id == 0 && has_feedback(codec, "goog-remb", "");
    producer->mime_type = codec["mimeType"];
    add.codec = wire::codec_kind_from_mime(producer->mime_type);
    add.clock_rate = codec["clockRate"].get<uint32_t>();
    // How the endpoint takes key-frame requests: PLI if it said so, else FIR.
    for (const json& fb : codec.value("rtcpFeedback", json::array())) {
      const std::string fb_type = fb.value("type", "");
      const std::string fb_parameter = fb.value("parameter", "");
      if (fb_type == "nack" && fb_parameter == "pli")
        add.keyframe_request = dp::KeyFrameRequest::pli;
      if (fb_type == "ccm" && fb_parameter == "fir" &&
          add.keyframe_request == dp::KeyFrameRequest::none) {
        add.keyframe_request = dp::KeyFrameRequest::fir;
      }
    }
    break;
  }
  add.counters = producer->counters.get();
  producer->rtp_parameters = std::move(params);
  producer->worker = worker_of_transport(transport.id());
  producer->add_command = add;
  post_to(producer->worker, add);

  const std::string id = producer->id;
  LOG_INFO("control", "room %s: %s %s producer %s (%zu encodings, ssrc %u) on transport %s",
           id_.c_str(), producer->type.c_str(), kind.c_str(), id.c_str(), encodings.size(), ssrc,
           transport.id().c_str());
  return *producers_.emplace(id, std::move(producer)).first->second;
}

Consumer& Room::add_consumer(const Peer& consumer_peer, Transport& transport, Producer& producer,
                             bool paused) {
  if (!consumer_peer.rtp_capabilities) throw_refused("peer has no rtpCapabilities");
  if (!can_consume(producer.consumable_parameters, *consumer_peer.rtp_capabilities)) {
    throw_refused("cannot consume producer \"" + producer.id + "\" with the rtpCapabilities");
  }
  const uint32_t ssrc = generate_random_ssrc();
  // DEMO: RTX (and so NACK) for every consumer, audio too (contract 3.1).
  const bool enable_rtx = !consumer_peer.is_broadcaster() || producer.kind == "video";
  json params = get_consumer_rtp_parameters(producer.consumable_parameters,
                                            *consumer_peer.rtp_capabilities, enable_rtx, ssrc);
  // WebRTC consumers get a MID, written into every packet (browsers route by it). Plain
  // consumers have none: the MID extension is left out of what they are told and sent.
  uint8_t mid_ext_id = 0;
  if (transport.is_webrtc()) {
    params["mid"] = transport.next_mid();
    for (const json& ext : params["headerExtensions"]) {
      if (ext["uri"] == kMidExtensionUri) mid_ext_id = ext["id"].get<uint8_t>();
    }
  } else {
    json exts = json::array();
    for (const json& ext : params["headerExtensions"]) {
      if (ext["uri"] != kMidExtensionUri) exts.push_back(ext);
    }
    params["headerExtensions"] = std::move(exts);
  }

  auto consumer = std::make_unique<Consumer>();
  consumer->id = generate_uuid_v4();
  consumer->dp_id = ids_.next_consumer++;
  consumer->peer_id = consumer_peer.id;
  consumer->transport_id = transport.id();
  consumer->producer_id = producer.id;
  consumer->kind = producer.kind;
  consumer->type = producer.type;
  consumer->mime_type = params["codecs"][0]["mimeType"];
  consumer->ssrc = ssrc;
  consumer->paused = paused;

  dp::AddConsumer add{};
  add.id = consumer->dp_id;
  add.producer = producer.dp_id;
  add.transport = transport.dp_id();
  add.ssrc = ssrc;
  add.clock_rate = params["codecs"][0]["clockRate"].get<uint32_t>();
  add.paused = paused;
  add.keyframe_sync = producer.kind == "video";
  add.pt_map.fill(dp::kNoMapping);
  for (const json& codec : params["codecs"]) {
    // Router PT -> consumer PT: the consumer's codecs carry router PTs.
    const auto pt = codec["payloadType"].get<uint8_t>();
    add.pt_map[pt] = pt;
  }
  add.ext_map.fill(0);
  for (const json& ext : params["headerExtensions"]) {
    const auto ext_id = ext["id"].get<uint8_t>();
    add.ext_map[ext_id] = ext_id;
  }
  add.mid.fill(0);
  add.mid_len = 0;
  add.mid_ext_id = mid_ext_id;
  // weir numbers and estimates for WebRTC endpoints, which send transport-cc feedback;
  // a plain one (ffmpeg) does not, and 16 KiB of send history per transport would be
  // spent on nothing.
  add.twcc_ext_id = transport.is_webrtc() ? extension_id(params, kTransportCcUri) : 0;
  const json& media_codec = params["codecs"][0];
  add.nack = has_feedback(media_codec, "nack", "");
  add.rtx_ssrc = 0;
  add.rtx_payload_type = 0;
  for (const json& codec : params["codecs"]) {
    if (is_rtx_codec(codec) && codec["parameters"].value("apt", -1) == media_codec["payloadType"]) {
      add.rtx_payload_type = codec["payloadType"].get<uint8_t>();
      const json& encoding = params["encodings"][0];
      if (encoding.contains("rtx")) add.rtx_ssrc = encoding["rtx"]["ssrc"].get<uint32_t>();
    }
  }
  add.cname.fill(0);
  const std::string cname = params["rtcp"].value("cname", "");
  add.cname_len = static_cast<uint8_t>(std::min(cname.size(), add.cname.size()));
  std::copy_n(cname.begin(), add.cname_len, add.cname.begin());
  if (params.contains("mid")) {
    const std::string mid = params["mid"];
    add.mid_len = static_cast<uint8_t>(std::min(mid.size(), add.mid.size()));
    std::copy_n(mid.begin(), add.mid_len, add.mid.begin());
  }
  add.preferred_spatial_layer = consumer->preferred_spatial_layer;
  add.preferred_temporal_layer = consumer->preferred_temporal_layer;
  add.counters = consumer->counters.get();
  consumer->rtp_parameters_json = params.dump();
  consumer->worker = worker_of_transport(transport.id());
  attach_pipe(producer, consumer->worker);
  post_to(consumer->worker, add);
  if (placement_) placement_->consumer_added(consumer->worker);

  const std::string id = consumer->id;
  producer.consumer_ids.insert(id);
  return *consumers_.emplace(id, std::move(consumer)).first->second;
}

void Room::pause_producer(Producer& producer, bool paused) {
  if (producer.paused == paused) return;
  producer.paused = paused;
  post_to(producer.worker, dp::SetProducerPaused{producer.dp_id, paused});
  // Its piped copies restart their consumers on a key frame too.
  for (const auto& [w, count] : producer.piped_consumers) {
    post_to(w, dp::SetProducerPaused{producer.dp_id, paused});
  }
  // Contract 4: the consumers' endpoints hear of the producer's pause (not of their own).
  for (const std::string& cid : producer.consumer_ids) {
    const Consumer& consumer = *consumers_.at(cid);
    auto owner = peers_.find(consumer.peer_id);
    if (owner == peers_.end()) continue;
    notify(*owner->second, paused ? "consumerPaused" : "consumerResumed", {{"consumerId", cid}});
  }
}

void Room::pause_consumer(Consumer& consumer, bool paused) {
  if (consumer.paused == paused) return;
  consumer.paused = paused;
  post_to(consumer.worker, dp::SetConsumerPaused{consumer.dp_id, paused});
}

void Room::attach_pipe(Producer& producer, uint32_t worker) {
  if (worker == producer.worker) return;
  size_t& count = producer.piped_consumers[worker];
  if (count++ > 0) return;
  // The copy first: the producer's worker may pipe a packet as soon as it has the pipe.
  dp::AddPipedProducer piped{producer.add_command, workers_[producer.worker]->index()};
  piped.producer.paused = producer.paused;
  piped.producer.counters = nullptr;
  post_to(worker, piped);
  post_to(producer.worker, dp::AddProducerPipe{producer.dp_id, workers_[worker]->index()});
  LOG_INFO("control", "room %s: producer %s piped from worker %u to worker %u", id_.c_str(),
           producer.id.c_str(), producer.worker, worker);
}

void Room::release_pipe(Producer& producer, uint32_t worker) {
  auto it = producer.piped_consumers.find(worker);
  if (it == producer.piped_consumers.end() || --it->second > 0) return;
  producer.piped_consumers.erase(it);
  // The pipe stops before the copy goes: what is still in it is counted, not misrouted.
  post_to(producer.worker, dp::RemoveProducerPipe{producer.dp_id, workers_[worker]->index()});
  post_to(worker, dp::RemoveProducer{producer.dp_id});
}

}  // namespace weir::control
