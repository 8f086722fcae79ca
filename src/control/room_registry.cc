#include "control/room_registry.h"

#include <boost/asio/post.hpp>

#include "base/log.h"
#include "control/control_error.h"
#include "control/ortc.h"
#include "dataplane/dtls_transport.h"

namespace weir::control {

size_t worker_index_for_room(const std::string& room_id, size_t worker_count) {
  if (worker_count == 0) return 0;
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : room_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<size_t>(hash % worker_count);
}

RoomRegistry::RoomRegistry(const ControlConfig& config, std::vector<dp::Worker*> workers,
                           nlohmann::json media_codecs, boost::asio::io_context* io)
    : config_(config),
      workers_(std::move(workers)),
      router_capabilities_(generate_router_rtp_capabilities(media_codecs)),
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
  dp::Worker* worker =
      workers_.empty() ? nullptr : workers_[worker_index_for_room(room_id, workers_.size())];
  auto room =
      std::make_unique<Room>(room_id, router_capabilities_, worker, config_, ids_, plumbing_.get());
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
  rooms_.erase(it);
}

void RoomRegistry::close_all() {
  for (auto& [id, room] : rooms_) room->close();
  rooms_.clear();
}

}  // namespace weir::control
