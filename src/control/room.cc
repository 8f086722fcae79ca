#include "control/room.h"

#include <algorithm>

#include "base/log.h"
#include "control/codec_matching.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/json_fields.h"
#include "control/ortc.h"
#include "control/plain_transport.h"
#include "control/random_ids.h"
#include "control/rtp_validation.h"
#include "control/webrtc_plumbing.h"
#include "control/webrtc_transport.h"
#include "dataplane/worker.h"
#include "wire/codec_payload.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr const char* kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
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

template <typename Map>
auto* find_in(Map& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : it->second.get();
}

}  // namespace

Room::Room(std::string id, json router_capabilities, dp::Worker* worker,
           const ControlConfig& config, DataplaneIds& ids, WebRtcPlumbing* plumbing)
    : id_(std::move(id)),
      router_capabilities_(std::move(router_capabilities)),
      worker_(worker),
      config_(config),
      ids_(ids),
      plumbing_(plumbing) {}

Room::~Room() { close(); }

Broadcaster& Room::broadcaster(const std::string& id) {
  Broadcaster* b = find_in(broadcasters_, id);
  if (!b) throw_not_found("broadcaster \"" + id + "\" not found");
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
  if (!p || p->broadcaster_id != broadcaster_id) {
    throw_not_found("producer \"" + producer_id + "\" not found");
  }
  return *p;
}

Consumer& Room::consumer_of(const std::string& broadcaster_id, const std::string& consumer_id) {
  broadcaster(broadcaster_id);
  Consumer* c = find_in(consumers_, consumer_id);
  if (!c || c->broadcaster_id != broadcaster_id) {
    throw_not_found("consumer \"" + consumer_id + "\" not found");
  }
  return *c;
}

// Every change is applied by the worker before the API answers: a client that sends media
// right after a 200 (pause, consume, connect) must find the dataplane already changed.
uint64_t Room::post(dp::Command command) {
  const uint64_t seq = worker_->post(std::move(command));
  worker_->wait_applied(seq);
  return seq;
}

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
  if (broadcasters_.count(id)) throw_refused("broadcaster with id \"" + id + "\" already exists");

  // The peers it can see: the other broadcasters, with what it could consume of theirs.
  json peers = json::array();
  if (caps) {
    for (const auto& [other_id, other] : broadcasters_) {
      json producers = json::array();
      for (const auto& [pid, producer] : producers_) {
        if (producer->broadcaster_id != other_id) continue;
        if (!can_consume(producer->consumable_parameters, *caps)) continue;
        producers.push_back({{"id", pid}, {"kind", producer->kind}});
      }
      peers.push_back({{"id", other_id},
                       {"displayName", other->display_name},
                       {"device", other->device},
                       {"producers", std::move(producers)}});
    }
  }

  auto b = std::make_unique<Broadcaster>();
  b->id = id;
  b->display_name = display_name;
  b->device = {{"flag", "broadcaster"}, {"name", device_name}};
  if (device_version) b->device["version"] = *device_version;
  b->rtp_capabilities = std::move(caps);
  broadcasters_.emplace(id, std::move(b));
  LOG_INFO("control", "room %s: broadcaster %s created", id_.c_str(), id.c_str());
  return {{"peers", std::move(peers)}};
}

void Room::delete_broadcaster(const std::string& broadcaster_id) {
  Broadcaster& b = broadcaster(broadcaster_id);
  remove({}, {}, b.transport_ids);
  broadcasters_.erase(broadcaster_id);
  LOG_INFO("control", "room %s: broadcaster %s deleted", id_.c_str(), broadcaster_id.c_str());
}

json Room::create_transport(const std::string& broadcaster_id, const json& body) {
  Broadcaster& b = broadcaster(broadcaster_id);
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string type = require_string(body, "body", "type");
  if (type != "plain" && type != "webrtc") {
    throw_wrong_type("body.type", "\"plain\" or \"webrtc\"");
  }
  std::unique_ptr<Transport> transport;
  const std::string id = generate_uuid_v4();
  if (type == "plain") {
    const PlainTransportOptions options =
        parse_plain_transport_options(body, config_.listen_ip, config_.rtc_min_port,
                                      config_.rtc_max_port, config_.announced_address);
    if (!worker_) throw_refused("no dataplane worker to run the transport");
    transport =
        std::make_unique<PlainTransport>(id, ids_.next_transport++, broadcaster_id, options);
  } else {
    if (!worker_) throw_refused("no dataplane worker to run the transport");
    if (!plumbing_) throw_refused("this server runs no WebRTC (no control event loop)");
    WebRtcTransportOptions options;
    options.listen_ip = config_.listen_ip;
    options.announced_ip = config_.announced_address;
    options.min_port = config_.rtc_min_port;
    options.max_port = config_.rtc_max_port;
    options.shared_port = config_.webrtc_shared_port;
    options.consent_timeout_ms = config_.ice_consent_timeout_ms;
    options.certificate = config_.dtls_certificate;
    auto webrtc = std::make_unique<WebRtcTransport>(
        id, ids_.next_transport++, broadcaster_id, options, *worker_, plumbing_->io(),
        [this](const WebRtcTransportEvent& event) { on_webrtc_event(event); });
    plumbing_->add(webrtc.get());
    transport = std::move(webrtc);
  }
  post(transport->take_add_command());
  json answer = transport->describe();
  b.transport_ids.insert(id);
  transports_.emplace(id, std::move(transport));
  return answer;
}

void Room::on_webrtc_event(const WebRtcTransportEvent& event) {
  // The broadcaster API has no channel for events; the protoo peers will get them. Until
  // then they are what an operator sees in the log (the transport logs the details).
  LOG_DEBUG("control", "room %s: transport %s %s %s", id_.c_str(), event.transport_id.c_str(),
            event.kind == WebRtcTransportEvent::Kind::ice_state    ? "iceState"
            : event.kind == WebRtcTransportEvent::Kind::dtls_state ? "dtlsState"
                                                                   : "iceSelectedTuple",
            event.value.c_str());
}

void Room::connect_transport(const std::string& broadcaster_id, const std::string& transport_id,
                             const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  for (auto& command : transport.connect(body)) post(std::move(command));
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
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string kind = require_string(body, "body", "kind");
  if (kind != "audio" && kind != "video") throw_wrong_type("body.kind", "\"audio\" or \"video\"");
  json params = require_object(body, "body", "rtpParameters");
  validate_rtp_parameters(params, "body.rtpParameters");
  const bool paused = optional_bool(body, "body", "paused", false);
  // The dataplane routes by SSRC only yet (no MID or RID): one stream, with an SSRC.
  if (params["encodings"].size() > 1) {
    throw_invalid("simulcast producers are not supported yet");
  }
  const json& encoding = params["encodings"][0];
  if (!encoding.contains("ssrc")) throw_missing("body.rtpParameters.encodings[0].ssrc");
  validate_producer_rtp_parameters(params, kind, "body.rtpParameters");

  const RtpMapping mapping =
      get_producer_rtp_parameter_mapping(params, router_capabilities_, generate_random_ssrc());
  params["rtcp"]["cname"] = transport.cname_for_producer(params["rtcp"]);

  auto producer = std::make_unique<Producer>();
  producer->id = generate_uuid_v4();
  producer->dp_id = ids_.next_producer++;
  producer->broadcaster_id = broadcaster_id;
  producer->transport_id = transport_id;
  producer->kind = kind;
  producer->type = producer_type(params);
  producer->ssrc = encoding["ssrc"].get<uint32_t>();
  producer->paused = paused;
  producer->consumable_parameters =
      get_consumable_rtp_parameters(kind, params, router_capabilities_, mapping);

  dp::AddProducer add{};
  add.id = producer->dp_id;
  add.transport = transport.dp_id();
  add.ssrc = producer->ssrc;
  add.rtx_ssrc = encoding.contains("rtx") ? encoding["rtx"]["ssrc"].get<uint32_t>() : 0;
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
  post(add);

  const std::string id = producer->id;
  producers_.emplace(id, std::move(producer));
  LOG_INFO("control", "room %s: %s producer %s (ssrc %u) on transport %s", id_.c_str(),
           kind.c_str(), id.c_str(), add.ssrc, transport_id.c_str());
  return {{"id", id}};
}

json Room::consume(const std::string& broadcaster_id, const std::string& transport_id,
                   const std::string& producer_id, const json& body) {
  Transport& transport = transport_of(broadcaster_id, transport_id);
  const Broadcaster& b = broadcaster(broadcaster_id);
  if (producer_id.empty()) throw_missing("query.producerId");
  const bool paused = body.is_null() ? false : optional_bool(body, "body", "paused", false);
  if (!b.rtp_capabilities) throw_refused("broadcaster does not have rtpCapabilities");
  Producer* producer = find_in(producers_, producer_id);
  if (!producer) throw_not_found("producer \"" + producer_id + "\" not found");
  if (!can_consume(producer->consumable_parameters, *b.rtp_capabilities)) {
    throw_refused("cannot consume producer \"" + producer_id +
                  "\" with the broadcaster's rtpCapabilities");
  }
  const uint32_t ssrc = generate_random_ssrc();
  json params = get_consumer_rtp_parameters(producer->consumable_parameters, *b.rtp_capabilities,
                                            producer->kind == "video", ssrc);
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
  consumer->broadcaster_id = broadcaster_id;
  consumer->transport_id = transport_id;
  consumer->producer_id = producer_id;
  consumer->kind = producer->kind;
  consumer->type = producer->type;
  consumer->mime_type = params["codecs"][0]["mimeType"];
  consumer->ssrc = ssrc;
  consumer->paused = paused;

  dp::AddConsumer add{};
  add.id = consumer->dp_id;
  add.producer = producer->dp_id;
  add.transport = transport.dp_id();
  add.ssrc = ssrc;
  add.clock_rate = params["codecs"][0]["clockRate"].get<uint32_t>();
  add.paused = paused;
  add.keyframe_sync = producer->kind == "video";
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
  add.counters = consumer->counters.get();
  consumer->rtp_parameters = params;
  post(add);

  const std::string id = consumer->id;
  producer->consumer_ids.insert(id);
  consumers_.emplace(id, std::move(consumer));
  return {{"id", id},
          {"producerId", producer_id},
          {"kind", producer->kind},
          {"rtpParameters", std::move(params)},
          {"type", producer->type},
          {"producerPaused", producer->paused}};
}

void Room::set_producer_paused(const std::string& broadcaster_id, const std::string& producer_id,
                               bool paused) {
  Producer& producer = producer_of(broadcaster_id, producer_id);
  if (producer.paused == paused) return;
  producer.paused = paused;
  post(dp::SetProducerPaused{producer.dp_id, paused});
}

void Room::set_consumer_paused(const std::string& broadcaster_id, const std::string& consumer_id,
                               bool paused) {
  Consumer& consumer = consumer_of(broadcaster_id, consumer_id);
  if (consumer.paused == paused) return;
  consumer.paused = paused;
  post(dp::SetConsumerPaused{consumer.dp_id, paused});
}

void Room::close_producer(const std::string& broadcaster_id, const std::string& producer_id) {
  producer_of(broadcaster_id, producer_id);
  remove({}, {producer_id}, {});
}

void Room::close_consumer(const std::string& broadcaster_id, const std::string& consumer_id) {
  consumer_of(broadcaster_id, consumer_id);
  remove({consumer_id}, {}, {});
}

void Room::remove(std::set<std::string> consumers, std::set<std::string> producers,
                  std::set<std::string> transports) {
  for (const auto& [pid, producer] : producers_) {
    if (transports.count(producer->transport_id)) producers.insert(pid);
  }
  for (const auto& [cid, consumer] : consumers_) {
    if (transports.count(consumer->transport_id) || producers.count(consumer->producer_id)) {
      consumers.insert(cid);
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
  uint64_t last = 0;
  for (const auto& cid : consumers) last = post(dp::RemoveConsumer{consumers_.at(cid)->dp_id});
  for (const auto& pid : producers) last = post(dp::RemoveProducer{producers_.at(pid)->dp_id});
  for (const auto& tid : transports) last = post(dp::RemoveTransport{transports_.at(tid)->dp_id()});
  // The worker writes the counters until it has applied the removals.
  if (last) worker_->wait_applied(last);

  for (const auto& cid : consumers) {
    const Consumer& consumer = *consumers_.at(cid);
    if (Producer* p = find_in(producers_, consumer.producer_id)) p->consumer_ids.erase(cid);
    consumers_.erase(cid);
  }
  for (const auto& pid : producers) producers_.erase(pid);
  for (const auto& tid : transports) {
    if (Broadcaster* b = find_in(broadcasters_, transports_.at(tid)->broadcaster_id())) {
      b->transport_ids.erase(tid);
    }
    transports_.erase(tid);
  }
}

void Room::close() {
  std::set<std::string> transports;
  for (const auto& [tid, transport] : transports_) transports.insert(tid);
  remove({}, {}, transports);
  broadcasters_.clear();
}

json Room::transport_stats(const std::string& transport_id) const {
  const Transport* t = find_in(transports_, transport_id);
  if (!t) throw_not_found("transport \"" + transport_id + "\" not found");
  return t->stats();
}

json Room::producer_stats_item(const Producer& p) const {
  const dp::ProducerCounters& c = *p.counters;
  return {{"type", "inbound-rtp"},
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
}

json Room::producer_stats(const std::string& producer_id) const {
  const Producer* p = find_in(producers_, producer_id);
  if (!p) throw_not_found("producer \"" + producer_id + "\" not found");
  return json::array({producer_stats_item(*p)});
}

json Room::consumer_stats(const std::string& consumer_id) const {
  const Consumer* c = find_in(consumers_, consumer_id);
  if (!c) throw_not_found("consumer \"" + consumer_id + "\" not found");
  const Producer& p = *producers_.at(c->producer_id);
  const dp::ConsumerCounters& k = *c->counters;
  json item = {{"type", "outbound-rtp"},
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
               {"paused", c->paused},
               {"producerPaused", p.paused},
               {"dropped", drop_counters_json(k.dropped)}};
  return json::array({std::move(item), producer_stats_item(p)});
}

}  // namespace weir::control
