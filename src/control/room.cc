#include "control/room.h"

#include "base/log.h"
#include "control/codec_matching.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/json_fields.h"
#include "control/ortc.h"
#include "control/random_ids.h"
#include "control/rtp_validation.h"
#include "dataplane/worker.h"
#include "wire/codec_payload.h"

namespace weir::control {

using nlohmann::json;

namespace {

template <typename Map>
auto* find_in(Map& map, const std::string& id) {
  auto it = map.find(id);
  return it == map.end() ? nullptr : it->second.get();
}

}  // namespace

Room::Room(std::string id, json router_capabilities, dp::Worker* worker,
           const ControlConfig& config, DataplaneIds& ids)
    : id_(std::move(id)),
      router_capabilities_(std::move(router_capabilities)),
      worker_(worker),
      config_(config),
      ids_(ids) {}

Room::~Room() { close(); }

Broadcaster& Room::broadcaster(const std::string& id) {
  Broadcaster* b = find_in(broadcasters_, id);
  if (!b) throw_not_found("broadcaster \"" + id + "\" not found");
  return *b;
}

PlainTransport& Room::transport_of(const std::string& broadcaster_id,
                                   const std::string& transport_id) {
  broadcaster(broadcaster_id);
  PlainTransport* t = find_in(transports_, transport_id);
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
  const PlainTransportOptions options =
      parse_plain_transport_options(body, config_.listen_ip, config_.rtc_min_port,
                                    config_.rtc_max_port, config_.announced_address);
  if (!worker_) throw_refused("no dataplane worker to run the transport");
  const std::string id = generate_uuid_v4();
  auto transport =
      std::make_unique<PlainTransport>(id, ids_.next_transport++, broadcaster_id, options);
  post(transport->take_add_command());
  json answer = transport->describe();
  b.transport_ids.insert(id);
  transports_.emplace(id, std::move(transport));
  return answer;
}

void Room::connect_transport(const std::string& broadcaster_id, const std::string& transport_id,
                             const json& body) {
  PlainTransport& transport = transport_of(broadcaster_id, transport_id);
  for (auto& command : transport.connect(body)) post(std::move(command));
}

json Room::create_producer(const std::string& broadcaster_id, const std::string& transport_id,
                           const json& body) {
  PlainTransport& transport = transport_of(broadcaster_id, transport_id);
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string kind = require_string(body, "body", "kind");
  if (kind != "audio" && kind != "video") throw_wrong_type("body.kind", "\"audio\" or \"video\"");
  json params = require_object(body, "body", "rtpParameters");
  validate_rtp_parameters(params, "body.rtpParameters");
  const bool paused = optional_bool(body, "body", "paused", false);
  // Plain RTP carries no MID or RID the dataplane routes by yet: one stream, by SSRC.
  if (params["encodings"].size() > 1) {
    throw_invalid("simulcast producers are not supported on plain transports yet");
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
  for (const json& codec : params["codecs"]) {
    if (is_rtx_codec(codec)) continue;
    producer->mime_type = codec["mimeType"];
    add.codec = wire::codec_kind_from_mime(producer->mime_type);
    add.clock_rate = codec["clockRate"].get<uint32_t>();
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
  PlainTransport& transport = transport_of(broadcaster_id, transport_id);
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
  // Plain consumers have no mid, and the dataplane cannot rewrite a MID extension's value:
  // announcing it would forward the producer's MID, so it is left out.
  json exts = json::array();
  for (const json& ext : params["headerExtensions"]) {
    if (ext["uri"] != "urn:ietf:params:rtp-hdrext:sdes:mid") exts.push_back(ext);
  }
  params["headerExtensions"] = std::move(exts);

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
  // route to something already gone.
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
  const PlainTransport* t = find_in(transports_, transport_id);
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
          {"keyFrames", c.keyframes.get()},
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
               {"paused", c->paused},
               {"producerPaused", p.paused},
               {"dropped", drop_counters_json(k.dropped)}};
  return json::array({std::move(item), producer_stats_item(p)});
}

}  // namespace weir::control
