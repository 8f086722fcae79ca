// The rooms of the process by id, each created on first use (every API route gets or
// creates its room, as the demo does). A new room's home is the worker serving the fewest
// consumers (worker_placement.h); its transports live there until it outgrows the spread
// threshold.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/control.h"
#include "control/room.h"
#include "control/webrtc_plumbing.h"
#include "control/worker_placement.h"

namespace weir::control {

class RoomRegistry {
 public:
  // io: the control thread's loop, for WebRTC transports (null: plain transports only).
  // Generates the DTLS certificate if the config has none (throws ControlError if it can't).
  RoomRegistry(const ControlConfig& config, std::vector<dp::Worker*> workers,
               nlohmann::json media_codecs, boost::asio::io_context* io);
  ~RoomRegistry();

  Room& get_or_create(const std::string& room_id);
  Room* find(const std::string& room_id);
  // Closes the room if its last peer (protoo or broadcaster) is gone (contract 1.3).
  void close_if_empty(const std::string& room_id);
  const std::map<std::string, std::unique_ptr<Room>>& rooms() const { return rooms_; }
  const std::vector<dp::Worker*>& workers() const { return workers_; }
  const nlohmann::json& router_capabilities() const { return router_capabilities_; }
  const WebRtcPlumbing* plumbing() const { return plumbing_.get(); }
  const WorkerPlacement& placement() const { return placement_; }
  void close_all();

 private:
  ControlConfig config_;
  std::vector<dp::Worker*> workers_;
  nlohmann::json router_capabilities_;  // the same for every room: computed once
  DataplaneIds ids_;
  WorkerPlacement placement_;
  std::unique_ptr<WebRtcPlumbing> plumbing_;  // before the rooms: they unregister from it
  std::map<std::string, std::unique_ptr<Room>> rooms_;
  boost::asio::io_context* io_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace weir::control
