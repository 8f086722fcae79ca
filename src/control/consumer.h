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
  std::string peer_id;
  std::string transport_id;
  std::string producer_id;
  std::string kind;
  std::string type;  // the producer's type
  std::string mime_type;
  uint32_t ssrc = 0;
  // Serialized: the parsed form costs ~200 allocations and ~4.5 KiB per consumer, and it is
  // read only for the consume answer and newConsumer.
  std::string rtp_parameters_json;
  nlohmann::json rtp_parameters() const { return nlohmann::json::parse(rtp_parameters_json); }
  uint32_t worker = 0;  // its transport's worker
  bool paused = false;  // its own pause (not the producer's)
  int priority = 1;
  uint8_t preferred_spatial_layer = 0xFF;   // 0xFF: the highest
  uint8_t preferred_temporal_layer = 0xFF;  // 0xFF: the highest
  // Freed only after the worker applied RemoveConsumer.
  std::unique_ptr<dp::ConsumerCounters> counters = std::make_unique<dp::ConsumerCounters>();

  // Observers' state (score.cc): what was last announced.
  int score = 10;
  nlohmann::json last_score;  // the last consumerScore data sent
  uint64_t last_layer = 0;    // current_spatial_layer at the last look (0: none)
};

}  // namespace weir::control
