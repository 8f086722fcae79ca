// The control side of a producer: its parameters in the client's terms and in the
// router's (consumable), and the counters its dataplane twin writes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/worker_commands.h"

namespace weir::control {

struct Producer {
  std::string id;
  uint64_t order = 0;  // creation order in the room: consumers are offered in it
  dp::ProducerId dp_id = 0;
  std::string peer_id;
  std::string transport_id;
  std::string kind;       // "audio" / "video"
  std::string type;       // "simple" / "simulcast" / "svc"
  std::string mime_type;  // of the first media codec
  uint32_t ssrc = 0;      // of the first encoding; 0: not signaled (learned by MID/RID)
  // Layers the consumers can choose from: encodings (simulcast) or the spatial layers of
  // the scalability mode (SVC), and temporal layers.
  int spatial_layers = 1;
  int temporal_layers = 1;
  nlohmann::json rtp_parameters;  // validated, rtcp.cname set to the transport's
  nlohmann::json consumable_parameters;
  nlohmann::json app_data = nlohmann::json::object();  // given by the client, plus peerId
  bool paused = false;
  // Freed only after the worker applied RemoveProducer (it writes them until then).
  std::unique_ptr<dp::ProducerCounters> counters = std::make_unique<dp::ProducerCounters>();
  std::set<std::string> consumer_ids;
  // Its transport's worker, and the command that made it there: a worker with consumers of
  // it gets a piped copy from it. piped_consumers: worker -> its consumers there.
  uint32_t worker = 0;
  dp::AddProducer add_command{};
  std::map<uint32_t, size_t> piped_consumers;

  // Observers' state (score.cc): the counters at the last look and what was announced.
  uint64_t last_packets = 0, last_lost = 0;
  uint64_t last_encoding_packets[dp::kMaxSimulcastEncodings] = {};
  std::vector<int> scores;  // per encoding, 0..10
  uint64_t last_level_sum = 0, last_level_packets = 0;
};

}  // namespace weir::control
