// A DataConsumer: one endpoint's copy of a DataProducer's messages, sent on a stream of
// its own consuming transport (the stream id is the room's choice, the reliability the
// producer's).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "control/webrtc_transport.h"

namespace weir::control {

struct DataConsumer {
  std::string id;
  std::string peer_id;
  std::string transport_id;
  std::string data_producer_id;
  SctpStreamParameters stream;  // stream_id: allocated on transport_id
  std::string label;
  std::string protocol;
  nlohmann::json app_data = nlohmann::json::object();
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t messages_dropped = 0;  // refused by the SCTP layer (not connected, buffer full)
};

}  // namespace weir::control
