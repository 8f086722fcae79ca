#include "control/dataplane_stats.h"

#include "dataplane/net_stack.h"
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

json worker_stats_json_base(const dp::Worker& worker, const dp::WorkerCounters& c,
                            const dp::EngineStats& engine);

json net_stack_json(const dp::NetStackCounters& s, const dp::EngineStats& engine) {
  return {{"rxFrames", s.rx_frames.get()},
          {"rxUdp", s.rx_udp.get()},
          {"rxUnboundPort", engine.rx_unbound},
          {"rxHandedOff", engine.rx_handed_off},
          {"rxHandoffDropped", engine.rx_handoff_dropped},
          {"txFrames", s.tx_frames.get()},
          {"txCopies", engine.tx_copies},
          {"txParkedForArp", s.tx_parked.get()},
          {"arpRequestsAnswered", s.arp_requests_answered.get()},
          {"arpRequestsSent", s.arp_requests_sent.get()},
          {"arpRepliesReceived", s.arp_replies_received.get()},
          {"icmpEchoAnswered", s.icmp_echo_answered.get()},
          {"dropped",
           {{"shortFrame", s.drop_short_frame.get()},
            {"vlan", s.drop_vlan.get()},
            {"unknownEtherType", s.drop_unknown_ethertype.get()},
            {"notForUs", s.drop_not_for_us.get()},
            {"badArp", s.drop_bad_arp.get()},
            {"ipv4Header", s.drop_ipv4_header.get()},
            {"ipv4Checksum", s.drop_ipv4_checksum.get()},
            {"fragment", s.drop_fragment.get()},
            {"unknownProtocol", s.drop_unknown_protocol.get()},
            {"udpLength", s.drop_udp_length.get()},
            {"udpChecksum", s.drop_udp_checksum.get()},
            {"noRoute", s.drop_no_route.get()},
            {"arpTimeout", s.drop_arp_timeout.get()},
            {"pendingFull", s.drop_pending_full.get()},
            {"icmpOther", s.drop_icmp_other.get()},
            {"tooLarge", s.drop_too_large.get()},
            {"noBuffer", s.drop_no_buffer.get()},
            {"ipv6", s.drop_ipv6.get()}}}};
}

json worker_stats_json(const dp::Worker& worker, const WorkerLoad* load) {
  const dp::WorkerCounters& c = worker.counters();
  const dp::EngineStats engine = worker.engine_stats();
  json out = worker_stats_json_base(worker, c, engine);
  // Pipes to and from the other workers (rooms spread over several).
  out["pipedOut"] = c.piped_out.get();
  out["pipedIn"] = c.piped_in.get();
  out["pipeFull"] = c.pipe_full.get();
  out["pipeUnknownProducer"] = c.pipe_unknown_producer.get();
  if (load != nullptr) {
    out["transports"] = load->transports;
    out["consumers"] = load->consumers;
    out["rooms"] = load->rooms;
  }
  if (const dp::NetStackCounters* s = worker.net_stack_counters())
    out["netStack"] = net_stack_json(*s, engine);
  return out;
}

json worker_stats_json_base(const dp::Worker& worker, const dp::WorkerCounters& c,
                            const dp::EngineStats& engine) {
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
