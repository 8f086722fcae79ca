#include "control/room_registry.h"

#include <boost/asio/post.hpp>

#include "base/log.h"
#include "control/control_error.h"
#include "control/ortc.h"
#include "dataplane/dtls_transport.h"

namespace weir::control {

RoomRegistry::RoomRegistry(const ControlConfig& config, std::vector<dp::Worker*> workers,
                           nlohmann::json media_codecs, boost::asio::io_context* io)
    : config_(config),
      workers_(std::move(workers)),
      router_capabilities_(generate_router_rtp_capabilities(media_codecs)),
      placement_(workers_.size(), config.room_spread_threshold),
      io_(io) {
  if (io == nullptr) return;
  if (!config_.dtls_certificate) {
    std::string error;
    config_.dtls_certificate = dp::DtlsCertificate::generate(&error);
    if (!config_.dtls_certificate) throw_refused("cannot generate the DTLS certificate: " + error);
  }
  plumbing_ = std::make_unique<WebRtcPlumbing>(*io, workers_);
}

RoomRegistry::~RoomRegistry() { close_all(); }

Room& RoomRegistry::get_or_create(const std::string& room_id) {
  if (room_id.empty()) throw_invalid("missing field roomId");
  auto it = rooms_.find(room_id);
  if (it != rooms_.end()) return *it->second;
  RoomWorkers placed;
  dp::Worker* worker = nullptr;
  if (!workers_.empty()) {
    placed.all = workers_;
    placed.placement = &placement_;
    placed.home = placement_.place_room();
    worker = workers_[placed.home];
  }
  auto room = std::make_unique<Room>(room_id, router_capabilities_, worker, config_, ids_,
                                     plumbing_.get(), std::move(placed));
  if (io_) {
    // The room noticed it emptied (inside its own call): closed from the loop, later.
    std::weak_ptr<bool> alive = alive_;
    room->set_on_empty([this, alive, room_id] {
      boost::asio::post(*io_, [this, alive, room_id] {
        if (!alive.expired()) close_if_empty(room_id);
      });
    });
  }
  return *rooms_.emplace(room_id, std::move(room)).first->second;
}

Room* RoomRegistry::find(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  return it == rooms_.end() ? nullptr : it->second.get();
}

void RoomRegistry::close_if_empty(const std::string& room_id) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || !it->second->empty()) return;
  LOG_INFO("control", "room %s: empty, closed", room_id.c_str());
  it->second->close();
  if (!workers_.empty()) placement_.room_closed(it->second->home_worker());
  rooms_.erase(it);
}

void RoomRegistry::close_all() {
  for (auto& [id, room] : rooms_) {
    room->close();
    if (!workers_.empty()) placement_.room_closed(room->home_worker());
  }
  rooms_.clear();
}

}  // namespace weir::control
