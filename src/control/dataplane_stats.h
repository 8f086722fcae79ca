// JSON views of the dataplane's counters, for the stats answers of the API.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "control/worker_placement.h"
#include "dataplane/counters.h"

namespace weir::dp {
class Worker;
}

namespace weir::control {

// {"<drop_reason_name>": n, ...} for every reason, zeros included, so the shape is fixed.
nlohmann::json drop_counters_json(const dp::DropCounters& dropped);

// The counters every transport has, in mediasoup's stats names, and its drops:
// {rtpPacketsReceived, rtcpPacketsReceived, bytesReceived, rtpPacketsSent, ..., dropped}.
nlohmann::json transport_counters_json(const dp::TransportCounters& counters);

// {index, engine, rxPackets, rxBytes, txPackets, txBytes, submits, poolAvailable, dropped,
//  pipedOut, pipedIn, pipeFull, pipeUnknownProducer, io}, plus transports and consumers
// when the placement's load is given (the control thread's count, not the worker's).
nlohmann::json worker_stats_json(const dp::Worker& worker, const WorkerLoad* load = nullptr);

}  // namespace weir::control
