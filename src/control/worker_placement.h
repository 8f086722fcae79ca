// Which dataplane worker a room and each of its transports go to. Pure bookkeeping on the
// control thread, no I/O: rooms are sharded over the workers (a new room goes to the one
// serving the fewest consumers), and a room whose consumers outgrow one core spreads:
// once it has more than the spread threshold, each new transport goes to the least-loaded
// worker, and the room's producers reach consumers elsewhere through worker pipes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weir::control {

struct WorkerLoad {
  size_t rooms = 0;       // rooms whose home this worker is
  size_t transports = 0;  // transports it serves, of any room
  size_t consumers = 0;   // consumers it serves, of any room
};

class WorkerPlacement {
 public:
  // spread_threshold: consumers a room may have before it spreads (0: spreads at once).
  WorkerPlacement(size_t workers, uint32_t spread_threshold);

  size_t worker_count() const { return loads_.size(); }
  uint32_t spread_threshold() const { return spread_threshold_; }

  // A new room's home worker (counted as one more room there): the fewest consumers,
  // then the fewest rooms, then the lowest index.
  uint32_t place_room();
  void room_closed(uint32_t home);

  // Where a new transport of a room with home worker `home` and room_consumers consumers
  // goes (not counted: call transport_added once it exists).
  uint32_t place_transport(uint32_t home, size_t room_consumers) const;
  void transport_added(uint32_t worker) { ++loads_[worker].transports; }
  void transport_removed(uint32_t worker);
  void consumer_added(uint32_t worker) { ++loads_[worker].consumers; }
  void consumer_removed(uint32_t worker);

  const WorkerLoad& load(uint32_t worker) const { return loads_[worker]; }
  // The worker with the fewest consumers (then transports, then the lowest index).
  uint32_t least_loaded() const;

 private:
  std::vector<WorkerLoad> loads_;
  uint32_t spread_threshold_;
};

}  // namespace weir::control
