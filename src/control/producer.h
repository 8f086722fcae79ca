// The control side of a producer: its parameters in the client's terms and in the
// router's (consumable), and the counters its dataplane twin writes.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "dataplane/counters.h"
#include "dataplane/worker_commands.h"

namespace weir::control {

struct Producer {
  std::string id;
  dp::ProducerId dp_id = 0;
  std::string broadcaster_id;
  std::string transport_id;
  std::string kind;       // "audio" / "video"
  std::string type;       // "simple" / "simulcast" / "svc"
  std::string mime_type;  // of the first media codec
  uint32_t ssrc = 0;
  nlohmann::json rtp_parameters;  // validated, rtcp.cname set to the transport's
  nlohmann::json consumable_parameters;
  bool paused = false;
  // Freed only after the worker applied RemoveProducer (it writes them until then).
  std::unique_ptr<dp::ProducerCounters> counters = std::make_unique<dp::ProducerCounters>();
  std::set<std::string> consumer_ids;
};

}  // namespace weir::control
