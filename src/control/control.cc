#include "control/control.h"

#include "base/log.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/ortc.h"
#include "control/peer_channel.h"
#include "control/room_registry.h"
#include "dataplane/worker.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "unknown"
#endif

namespace weir::control {

using nlohmann::json;

namespace {

// Runs one API call: a ControlError becomes its status and reason; any other exception
// (a bug, or the JSON library refusing something) is a 500 rather than a dead thread.
template <typename Fn>
ApiResult answer(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const ControlError& e) {
    LOG_DEBUG("control", "%s: %d %s", what, e.http_status(), e.what());
    return ApiResult::error(e.http_status(), e.what());
  } catch (const std::exception& e) {
    LOG_ERROR("control", "%s failed: %s", what, e.what());
    return ApiResult::error(500, std::string("internal error: ") + e.what());
  }
}

}  // namespace

Control::Control(const ControlConfig& config, std::vector<dp::Worker*> workers,
                 boost::asio::io_context* io)
    : rooms_(std::make_unique<RoomRegistry>(
          config, std::move(workers),
          config.media_codecs.is_null() ? default_media_codecs() : config.media_codecs, io)) {}

Control::~Control() { close_all(); }

const json& Control::router_rtp_capabilities() const { return rooms_->router_capabilities(); }

ApiResult Control::peer_connected(const std::string& room_id, const std::string& peer_id,
                                  std::shared_ptr<PeerChannel> channel) {
  return answer("peer connected", [&] {
    if (peer_id.empty()) throw_invalid("missing field peerId");
    PeerChannel* raw = channel.get();
    rooms_->get_or_create(room_id).peer_connected(peer_id, std::move(channel));
    // Display only (the demo app shows it): weir's own version, not mediasoup's.
    raw->notify("mediasoup-version", {{"version", std::string("weir ") + WEIR_VERSION}});
    return ApiResult::ok(json::object());
  });
}

void Control::peer_request(const std::string& room_id, const std::string& peer_id,
                           const PeerChannel* channel, const std::string& method, const json& data,
                           std::function<void(ApiResult)> respond) {
  Room* room = rooms_->find(room_id);
  if (!room) {
    respond(ApiResult::error(500, "room \"" + room_id + "\" not found"));
    return;
  }
  // The room answers every failure itself (500 with the reason), then runs what follows
  // the answer (join's consumers, produce's newConsumer requests).
  room->peer_request(peer_id, channel, method, data, respond);
}

void Control::peer_disconnected(const std::string& room_id, const std::string& peer_id,
                                const PeerChannel* channel) {
  Room* room = rooms_->find(room_id);
  if (!room) return;
  try {
    room->peer_disconnected(peer_id, channel);
  } catch (const std::exception& e) {
    LOG_ERROR("control", "room %s: peer %s left badly: %s", room_id.c_str(), peer_id.c_str(),
              e.what());
  }
  rooms_->close_if_empty(room_id);
}

ApiResult Control::get_room(const std::string& room_id) {
  return answer("get room", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).router_capabilities());
  });
}

ApiResult Control::create_broadcaster(const std::string& room_id, const json& body) {
  return answer("create broadcaster", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).create_broadcaster(body));
  });
}

ApiResult Control::delete_broadcaster(const std::string& room_id,
                                      const std::string& broadcaster_id) {
  return answer("delete broadcaster", [&] {
    rooms_->get_or_create(room_id).delete_broadcaster(broadcaster_id);
    rooms_->close_if_empty(room_id);
    return ApiResult::ok_text("broadcaster deleted");
  });
}

ApiResult Control::create_transport(const std::string& room_id, const std::string& broadcaster_id,
                                    const json& body) {
  return answer("create transport", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).create_transport(broadcaster_id, body));
  });
}

ApiResult Control::connect_transport(const std::string& room_id, const std::string& broadcaster_id,
                                     const std::string& transport_id, const json& body) {
  return answer("connect transport", [&] {
    rooms_->get_or_create(room_id).connect_transport(broadcaster_id, transport_id, body);
    return ApiResult::ok(json::object());
  });
}

ApiResult Control::restart_ice(const std::string& room_id, const std::string& broadcaster_id,
                               const std::string& transport_id) {
  return answer("restart ICE", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).restart_ice(broadcaster_id, transport_id));
  });
}

ApiResult Control::create_producer(const std::string& room_id, const std::string& broadcaster_id,
                                   const std::string& transport_id, const json& body) {
  return answer("create producer", [&] {
    return ApiResult::ok(
        rooms_->get_or_create(room_id).create_producer(broadcaster_id, transport_id, body));
  });
}

ApiResult Control::consume(const std::string& room_id, const std::string& broadcaster_id,
                           const std::string& transport_id, const std::string& producer_id) {
  return consume(room_id, broadcaster_id, transport_id, producer_id, json());
}

ApiResult Control::consume(const std::string& room_id, const std::string& broadcaster_id,
                           const std::string& transport_id, const std::string& producer_id,
                           const json& body) {
  return answer("consume", [&] {
    return ApiResult::ok(
        rooms_->get_or_create(room_id).consume(broadcaster_id, transport_id, producer_id, body));
  });
}

ApiResult Control::produce_data(const std::string& room_id, const std::string& broadcaster_id,
                                const std::string& transport_id, const json& body) {
  return answer("produce data", [&] {
    return ApiResult::ok(
        rooms_->get_or_create(room_id).produce_data(broadcaster_id, transport_id, body));
  });
}

ApiResult Control::consume_data(const std::string& room_id, const std::string& broadcaster_id,
                                const std::string& transport_id, const json& body) {
  return answer("consume data", [&] {
    return ApiResult::ok(
        rooms_->get_or_create(room_id).consume_data(broadcaster_id, transport_id, body));
  });
}

ApiResult Control::set_producer_paused(const std::string& room_id,
                                       const std::string& broadcaster_id,
                                       const std::string& producer_id, bool paused) {
  return answer("pause producer", [&] {
    rooms_->get_or_create(room_id).set_producer_paused(broadcaster_id, producer_id, paused);
    return ApiResult::ok(json::object());
  });
}

ApiResult Control::set_consumer_paused(const std::string& room_id,
                                       const std::string& broadcaster_id,
                                       const std::string& consumer_id, bool paused) {
  return answer("pause consumer", [&] {
    rooms_->get_or_create(room_id).set_consumer_paused(broadcaster_id, consumer_id, paused);
    return ApiResult::ok(json::object());
  });
}

ApiResult Control::close_producer(const std::string& room_id, const std::string& broadcaster_id,
                                  const std::string& producer_id) {
  return answer("close producer", [&] {
    rooms_->get_or_create(room_id).close_producer(broadcaster_id, producer_id);
    return ApiResult::ok(json::object());
  });
}

ApiResult Control::close_consumer(const std::string& room_id, const std::string& broadcaster_id,
                                  const std::string& consumer_id) {
  return answer("close consumer", [&] {
    rooms_->get_or_create(room_id).close_consumer(broadcaster_id, consumer_id);
    return ApiResult::ok(json::object());
  });
}

ApiResult Control::transport_stats(const std::string& room_id, const std::string& transport_id) {
  return answer("transport stats", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).transport_stats(transport_id));
  });
}

ApiResult Control::producer_stats(const std::string& room_id, const std::string& producer_id) {
  return answer("producer stats", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).producer_stats(producer_id));
  });
}

ApiResult Control::consumer_stats(const std::string& room_id, const std::string& consumer_id) {
  return answer("consumer stats", [&] {
    return ApiResult::ok(rooms_->get_or_create(room_id).consumer_stats(consumer_id));
  });
}

ApiResult Control::server_stats() {
  return answer("server stats", [&] {
    json workers = json::array();
    for (size_t i = 0; i < rooms_->workers().size(); ++i) {
      const WorkerLoad& load = rooms_->placement().load(static_cast<uint32_t>(i));
      workers.push_back(worker_stats_json(*rooms_->workers()[i], &load));
    }
    size_t transports = 0, producers = 0, consumers = 0;
    for (const auto& [id, room] : rooms_->rooms()) {
      transports += room->transport_count();
      producers += room->producer_count();
      consumers += room->consumer_count();
    }
    return ApiResult::ok({{"version", WEIR_VERSION},
                          {"workers", std::move(workers)},
                          {"rooms", rooms_->rooms().size()},
                          {"transports", transports},
                          {"producers", producers},
                          {"consumers", consumers},
                          // STUN/DTLS no transport claimed (closed, or a stranger's).
                          {"unroutableControlPackets",
                           rooms_->plumbing() ? rooms_->plumbing()->unroutable_packets() : 0}});
  });
}

void Control::close_all() { rooms_->close_all(); }

}  // namespace weir::control
