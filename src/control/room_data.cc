// Room: DataChannels. A data producer is a stream of its transport's SCTP association; what
// arrives on it is sent again on each of its data consumers' streams, on their transports.
#include "base/log.h"
#include "control/control_error.h"
#include "control/json_fields.h"
#include "control/random_ids.h"
#include "control/room.h"
#include "control/webrtc_transport.h"

namespace weir::control {

using nlohmann::json;

json sctp_stream_parameters_json(const SctpStreamParameters& params) {
  json out = {{"streamId", params.stream_id}, {"ordered", params.ordered}};
  if (params.max_packet_life_time_ms) out["maxPacketLifeTime"] = *params.max_packet_life_time_ms;
  if (params.max_retransmits) out["maxRetransmits"] = *params.max_retransmits;
  return out;
}

SctpStreamParameters parse_sctp_stream_parameters(const json& value, const std::string& path) {
  if (!value.is_object()) throw_wrong_type(path, "an object");
  SctpStreamParameters params;
  // 65535 is reserved by SCTP (RFC 8831 6.5 leaves ids 0..65534).
  params.stream_id = static_cast<uint16_t>(require_integer(value, path, "streamId", 0, 65534));
  const auto life = optional_integer(value, path, "maxPacketLifeTime", 0, UINT32_MAX);
  const auto retransmits = optional_integer(value, path, "maxRetransmits", 0, UINT32_MAX);
  if (life && retransmits) {
    throw_invalid("invalid field " + path +
                  " (maxPacketLifeTime and maxRetransmits are mutually exclusive)");
  }
  // Contract 5.4: ordered defaults to true only when there is no reliability limit.
  const bool limited = life || retransmits;
  params.ordered = optional_bool(value, path, "ordered", !limited);
  if (params.ordered && limited) {
    throw_invalid("invalid field " + field_path(path, "ordered") +
                  " (ordered with maxPacketLifeTime or maxRetransmits)");
  }
  if (life) params.max_packet_life_time_ms = static_cast<uint32_t>(*life);
  if (retransmits) params.max_retransmits = static_cast<uint32_t>(*retransmits);
  return params;
}

DataProducer& Room::add_data_producer(Peer& owner, Transport& transport, const json& data,
                                      const std::string& path) {
  if (!data.is_object()) throw_wrong_type(path, "an object");
  if (!transport.is_webrtc()) throw_refused("transport has no SCTP (not a WebRTC transport)");
  const std::string stream_path = field_path(path, "sctpStreamParameters");
  const json* given = find_field(data, path, "sctpStreamParameters");
  if (!given) throw_missing(stream_path);
  const SctpStreamParameters stream = parse_sctp_stream_parameters(*given, stream_path);
  const TransportRole& role = transport_roles_.at(transport.id());
  if (stream.stream_id >= role.sctp_mis) {
    throw_invalid("invalid field " + field_path(stream_path, "streamId") + " (not below MIS " +
                  std::to_string(role.sctp_mis) + ")");
  }
  for (const auto& [did, other] : data_producers_) {
    if (other->transport_id == transport.id() && other->stream.stream_id == stream.stream_id) {
      throw_refused("streamId " + std::to_string(stream.stream_id) + " already in use");
    }
  }
  json app_data = json::object();
  if (const json* a = find_field(data, path, "appData")) {
    if (!a->is_object()) throw_wrong_type(field_path(path, "appData"), "an object");
    app_data = *a;
  }
  auto dp = std::make_unique<DataProducer>();
  dp->id = generate_uuid_v4();
  dp->order = next_order_++;
  dp->peer_id = owner.id;
  dp->transport_id = transport.id();
  dp->stream = stream;
  dp->label = optional_string(data, path, "label").value_or("");
  dp->protocol = optional_string(data, path, "protocol").value_or("");
  dp->app_data = std::move(app_data);
  LOG_INFO("control", "room %s: data producer %s \"%s\" (stream %u) on transport %s", id_.c_str(),
           dp->id.c_str(), dp->label.c_str(), stream.stream_id, transport.id().c_str());
  const std::string id = dp->id;
  return *data_producers_.emplace(id, std::move(dp)).first->second;
}

DataConsumer& Room::add_data_consumer(const Peer& consumer_peer, Transport& transport,
                                      DataProducer& data_producer) {
  if (!transport.is_webrtc()) throw_refused("transport has no SCTP (not a WebRTC transport)");
  TransportRole& role = transport_roles_.at(transport.id());
  // The lowest stream id this transport's data consumers do not use (contract 3.3).
  uint32_t stream_id = 0;
  while (stream_id < role.sctp_mis &&
         role.data_stream_ids.count(static_cast<uint16_t>(stream_id))) {
    ++stream_id;
  }
  if (stream_id >= role.sctp_mis) throw_refused("no free SCTP stream id on the transport");
  auto dc = std::make_unique<DataConsumer>();
  dc->id = generate_uuid_v4();
  dc->peer_id = consumer_peer.id;
  dc->transport_id = transport.id();
  dc->data_producer_id = data_producer.id;
  dc->stream = data_producer.stream;
  dc->stream.stream_id = static_cast<uint16_t>(stream_id);
  dc->label = data_producer.label;
  dc->protocol = data_producer.protocol;
  dc->app_data = data_producer.app_data;
  role.data_stream_ids.insert(dc->stream.stream_id);
  data_producer.data_consumer_ids.insert(dc->id);
  const std::string id = dc->id;
  return *data_consumers_.emplace(id, std::move(dc)).first->second;
}

void Room::on_sctp_message(const std::string& transport_id, const SctpMessage& message) {
  DataProducer* source = nullptr;
  for (auto& [did, dp] : data_producers_) {
    if (dp->transport_id == transport_id && dp->stream.stream_id == message.stream_id) {
      source = dp.get();
      break;
    }
  }
  if (!source) {
    LOG_DEBUG("control", "room %s: transport %s: message on stream %u of no data producer",
              id_.c_str(), transport_id.c_str(), message.stream_id);
    return;
  }
  ++source->messages_received;
  source->bytes_received += message.len;
  relay(*source, message.ppid, message.data, message.len);
  if (source->label == "bot" && !bot_data_producer_id_.empty()) bot_answer(*source, message);
}

void Room::relay(DataProducer& data_producer, uint32_t ppid, const uint8_t* data, size_t len) {
  for (const std::string& dcid : data_producer.data_consumer_ids) {
    DataConsumer& dc = *data_consumers_.at(dcid);
    WebRtcTransport* out = webrtc(dc.transport_id);
    if (out && out->send_sctp_message(dc.stream, ppid, data, len)) {
      ++dc.messages_sent;
      dc.bytes_sent += len;
    } else {
      ++dc.messages_dropped;
    }
  }
}

void Room::add_bot() {
  auto bot = std::make_unique<DataProducer>();
  bot->id = generate_uuid_v4();
  bot->order = next_order_++;
  bot->label = "bot";
  bot->stream.ordered = true;  // a direct producer: consumers get reliable, ordered streams
  bot_data_producer_id_ = bot->id;
  data_producers_.emplace(bot->id, std::move(bot));
}

void Room::bot_answer(const DataProducer& source, const SctpMessage& message) {
  constexpr uint32_t kPpidString = 51;  // the bot answers text only, as the demo's
  if (message.ppid != kPpidString) return;
  auto owner = peers_.find(source.peer_id);
  if (owner == peers_.end()) return;
  const std::string text(reinterpret_cast<const char*>(message.data), message.len);
  const std::string answer = owner->second->display_name + " said me: \"" + text + "\"";
  DataProducer& bot = *data_producers_.at(bot_data_producer_id_);
  ++bot.messages_received;
  bot.bytes_received += answer.size();
  relay(bot, kPpidString, reinterpret_cast<const uint8_t*>(answer.data()), answer.size());
}

}  // namespace weir::control
