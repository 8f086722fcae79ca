// A DataProducer: the SCTP stream on which an endpoint sends DataChannel messages into the
// room. Messages that arrive on its transport with its stream id are relayed to each of
// its DataConsumers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "control/webrtc_transport.h"

namespace weir::control {

struct DataProducer {
  std::string id;
  uint64_t order = 0;  // creation order in the room: data consumers are offered in it
  std::string peer_id;
  std::string transport_id;
  SctpStreamParameters stream;
  std::string label;
  std::string protocol;
  nlohmann::json app_data = nlohmann::json::object();
  uint64_t messages_received = 0;
  uint64_t bytes_received = 0;
  std::set<std::string> data_consumer_ids;
};

// sctpStreamParameters as JSON (contract 5.4): streamId, ordered, and the reliability limit.
nlohmann::json sctp_stream_parameters_json(const SctpStreamParameters& params);
// Validates contract 5.4: streamId an integer in [0, 65534], ordered a bool (default true
// when no limit is given, false otherwise), at most one of maxPacketLifeTime and
// maxRetransmits, and not with ordered:true. Throws ControlError(invalid) naming the field.
SctpStreamParameters parse_sctp_stream_parameters(const nlohmann::json& value,
                                                  const std::string& path);

}  // namespace weir::control
