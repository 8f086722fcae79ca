// A peer of a room: a protoo peer (a browser on a WebSocket) or a broadcaster (an endpoint
// driven through the HTTP API: ffmpeg, GStreamer, pktgen). A broadcaster is a peer without
// a signaling channel: it is always "joined", is announced to the others like a peer, and
// gets no notifications or server-side requests.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/peer_channel.h"

namespace weir::control {

struct Peer {
  std::string id;
  uint64_t order = 0;  // arrival order in the room: join answers list peers in it
  std::string display_name;
  nlohmann::json device;  // {flag, name, version?}
  // Validated; absent when the peer does not consume.
  std::optional<nlohmann::json> rtp_capabilities;
  std::optional<nlohmann::json> sctp_capabilities;
  std::shared_ptr<PeerChannel> channel;  // null: a broadcaster
  bool joined = false;                   // protoo: after join; broadcasters: always
  // Its transports in creation order: the first with consuming:true receives consumers.
  std::vector<std::string> transport_ids;

  bool is_broadcaster() const { return channel == nullptr; }
  // What the others are told about it (join's peers list, newPeer).
  nlohmann::json info() const {
    return {{"id", id}, {"displayName", display_name}, {"device", device}};
  }
};

}  // namespace weir::control
