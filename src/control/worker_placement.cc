#include "control/worker_placement.h"

namespace weir::control {

WorkerPlacement::WorkerPlacement(size_t workers, uint32_t spread_threshold)
    : loads_(workers == 0 ? 1 : workers), spread_threshold_(spread_threshold) {}

uint32_t WorkerPlacement::place_room() {
  uint32_t best = 0;
  for (uint32_t i = 1; i < loads_.size(); ++i) {
    const WorkerLoad& a = loads_[i];
    const WorkerLoad& b = loads_[best];
    if (a.consumers < b.consumers || (a.consumers == b.consumers && a.rooms < b.rooms)) best = i;
  }
  ++loads_[best].rooms;
  return best;
}

void WorkerPlacement::room_closed(uint32_t home) {
  if (home < loads_.size() && loads_[home].rooms > 0) --loads_[home].rooms;
}

uint32_t WorkerPlacement::place_transport(uint32_t home, size_t room_consumers) const {
  // Below the threshold a room stays on one core: nothing crosses between workers.
  if (room_consumers <= spread_threshold_ || loads_.size() == 1) return home;
  return least_loaded();
}

uint32_t WorkerPlacement::least_loaded() const {
  uint32_t best = 0;
  for (uint32_t i = 1; i < loads_.size(); ++i) {
    const WorkerLoad& a = loads_[i];
    const WorkerLoad& b = loads_[best];
    if (a.consumers < b.consumers || (a.consumers == b.consumers && a.transports < b.transports))
      best = i;
  }
  return best;
}

void WorkerPlacement::transport_removed(uint32_t worker) {
  if (worker < loads_.size() && loads_[worker].transports > 0) --loads_[worker].transports;
}

void WorkerPlacement::consumer_removed(uint32_t worker) {
  if (worker < loads_.size() && loads_[worker].consumers > 0) --loads_[worker].consumers;
}

}  // namespace weir::control
