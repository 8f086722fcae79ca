// The control side of a consumer: the RtpParameters its endpoint receives with, and the
// counters its dataplane twin writes.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/counters.h"
#include "dataplane/worker_commands.h"

namespace weir::control {

struct Consumer {
  std::string id;
  dp::ConsumerId dp_id = 0;
  std::string broadcaster_id;
  std::string transport_id;
  std::string producer_id;
  std::string kind;
  std::string type;  // the producer's type
  std::string mime_type;
  uint32_t ssrc = 0;
  nlohmann::json rtp_parameters;
  bool paused = false;
  // Freed only after the worker applied RemoveConsumer.
  std::unique_ptr<dp::ConsumerCounters> counters = std::make_unique<dp::ConsumerCounters>();
};

}  // namespace weir::control
