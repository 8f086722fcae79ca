// A broadcaster: an endpoint driven through the HTTP API (ffmpeg, GStreamer, pktgen) that
// owns plain transports, and through them producers and consumers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

namespace weir::control {

struct Broadcaster {
  std::string id;
  std::string display_name;
  nlohmann::json device;  // {flag:"broadcaster", name, version?}
  // Validated; absent when the broadcaster only produces (it cannot consume then).
  std::optional<nlohmann::json> rtp_capabilities;
  std::set<std::string> transport_ids;
};

}  // namespace weir::control
