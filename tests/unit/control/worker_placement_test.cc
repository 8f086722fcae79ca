// Which worker rooms and transports go to: rooms sharded by consumer load, a room spread
// over the workers once it has more consumers than the threshold.
#include "control/worker_placement.h"

#include <gtest/gtest.h>

namespace weir::control {
namespace {

TEST(WorkerPlacement, RoomsGoToTheWorkerWithFewestConsumersThenFewestRooms) {
  WorkerPlacement placement(3, 500);
  EXPECT_EQ(placement.place_room(), 0u);
  EXPECT_EQ(placement.place_room(), 1u);  // all idle: fewest rooms wins
  EXPECT_EQ(placement.place_room(), 2u);
  placement.consumer_added(0);
  placement.consumer_added(2);
  EXPECT_EQ(placement.place_room(), 1u);  // the only worker without consumers
  EXPECT_EQ(placement.load(1).rooms, 2u);
  placement.room_closed(1);
  placement.room_closed(1);
  EXPECT_EQ(placement.load(1).rooms, 0u);
  placement.room_closed(1);  // never below zero
  EXPECT_EQ(placement.load(1).rooms, 0u);
}

TEST(WorkerPlacement, ARoomStaysHomeUpToTheThreshold) {
  WorkerPlacement placement(2, 10);
  placement.consumer_added(0);
  for (size_t consumers = 0; consumers <= 10; ++consumers) {
    EXPECT_EQ(placement.place_transport(1, consumers), 1u) << consumers;
  }
}

TEST(WorkerPlacement, ALargeRoomSpreadsOverTheLeastLoadedWorkers) {
  WorkerPlacement placement(2, 10);
  const uint32_t home = placement.place_room();
  ASSERT_EQ(home, 0u);
  // The way the API builds a fan-out: a transport, then its consumer, 30 times.
  size_t room_consumers = 0;
  for (int i = 0; i < 30; ++i) {
    const uint32_t w = placement.place_transport(home, room_consumers);
    placement.transport_added(w);
    placement.consumer_added(w);
    ++room_consumers;
  }
  // 11 at home before it spread, then the other worker catches up, then turns.
  EXPECT_EQ(placement.load(0).consumers, 15u);
  EXPECT_EQ(placement.load(1).consumers, 15u);
  EXPECT_EQ(placement.load(0).transports, 15u);
  EXPECT_EQ(placement.load(1).transports, 15u);
}

TEST(WorkerPlacement, TiesOnConsumersGoToFewerTransportsThenTheLowestIndex) {
  WorkerPlacement placement(3, 0);
  placement.transport_added(0);
  EXPECT_EQ(placement.least_loaded(), 1u);
  placement.transport_added(1);
  EXPECT_EQ(placement.least_loaded(), 2u);
  placement.transport_added(2);
  EXPECT_EQ(placement.least_loaded(), 0u);
  placement.consumer_added(0);
  EXPECT_EQ(placement.place_transport(0, 1), 1u);
  placement.consumer_removed(0);
  placement.transport_removed(0);
  EXPECT_EQ(placement.least_loaded(), 0u);
}

TEST(WorkerPlacement, OneWorkerTakesEverything) {
  WorkerPlacement placement(1, 0);
  EXPECT_EQ(placement.place_room(), 0u);
  EXPECT_EQ(placement.place_transport(0, 1000), 0u);
  WorkerPlacement none(0, 0);  // no workers configured: one slot, never out of range
  EXPECT_EQ(none.worker_count(), 1u);
}

}  // namespace
}  // namespace weir::control
