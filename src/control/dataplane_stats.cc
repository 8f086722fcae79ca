#include "control/dataplane_stats.h"

#include "dataplane/worker.h"

namespace weir::control {

using nlohmann::json;

json drop_counters_json(const dp::DropCounters& dropped) {
  json out = json::object();
  for (int i = 0; i < dp::kDropReasonCount; ++i) {
    const auto reason = static_cast<dp::DropReason>(i);
    out[dp::drop_reason_name(reason)] = dropped.get(reason);
  }
  return out;
}

json worker_stats_json(const dp::Worker& worker) {
  const dp::WorkerCounters& c = worker.counters();
  const dp::EngineStats engine = worker.engine_stats();
  return {{"index", worker.index()},
          {"engine", worker.engine_name()},
          {"rxPackets", c.rx_packets.get()},
          {"rxBytes", c.rx_bytes.get()},
          {"txPackets", c.tx_packets.get()},
          {"txBytes", c.tx_bytes.get()},
          {"submits", engine.submits},
          {"poolAvailable", worker.pool_available()},
          {"dropped", drop_counters_json(c.dropped)},
          // What the kernel side of the engine reports: sends completed, refused by the
          // kernel (txErrors) or dropped for want of a submission slot (txDropped), and
          // datagrams lost before reaching weir's tables.
          {"io",
           {{"rxPackets", engine.rx_packets},
            {"rxTruncated", engine.rx_truncated},
            {"rxNoBuffer", engine.rx_no_buffer},
            {"txCompleted", engine.tx_packets},
            {"txErrors", engine.tx_errors},
            {"txDropped", engine.tx_dropped}}}};
}

json transport_counters_json(const dp::TransportCounters& c) {
  return {{"rtpPacketsReceived", c.rtp_packets_in.get()},
          {"rtcpPacketsReceived", c.rtcp_packets_in.get()},
          {"bytesReceived", c.bytes_in.get()},
          {"rtpPacketsSent", c.rtp_packets_out.get()},
          {"rtcpPacketsSent", c.rtcp_packets_out.get()},
          {"bytesSent", c.bytes_out.get()},
          {"dropped", drop_counters_json(c.dropped)}};
}

}  // namespace weir::control
