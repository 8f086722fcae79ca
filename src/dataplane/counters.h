// Counters written by exactly one worker thread and read by others (control, API).
// A relaxed load+store pair compiles to plain moves: no locked instruction on the packet
// path, and readers see a value that is at most a little stale.
#pragma once

#include <atomic>
#include <cstdint>

namespace weir::dp {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(uint64_t n) { v_.store(n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Why a packet was dropped. The names (drop_reason_name) are what the stats API shows.
enum class DropReason : uint8_t {
  not_media,             // first byte neither RTP/RTCP nor a control protocol
  control_unhandled,     // STUN/DTLS on a transport that has no ICE/DTLS
  malformed_rtp,         // failed RTP parsing
  malformed_rtcp,        // failed RTCP compound parsing (e.g. lying length fields)
  srtp_auth_failed,      // wrong key or tampered packet
  srtp_replay,           // replayed or too old
  srtp_other,            // other SRTP failure
  unknown_ssrc,          // RTP for no producer of this transport
  unknown_payload_type,  // payload type not negotiated for the producer
  unknown_remote,        // from an address other than the connected remote
  no_remote,             // nothing to send to yet (no connect, comedia not learned)
  paused,                // producer or consumer paused
  waiting_keyframe,      // consumer (re)synchronising on the next key frame
  no_buffer,             // packet pool exhausted
  too_large,             // rewritten packet would not fit a buffer
  send_failed,           // the kernel refused the send
  control_queue_full,    // STUN/DTLS for the control thread found its ring full
  count_
};
constexpr int kDropReasonCount = static_cast<int>(DropReason::count_);
const char* drop_reason_name(DropReason r);

struct DropCounters {
  Counter by_reason[kDropReasonCount];
  void add(DropReason r) { by_reason[static_cast<int>(r)].add(); }
  uint64_t get(DropReason r) const { return by_reason[static_cast<int>(r)].get(); }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& c : by_reason) t += c.get();
    return t;
  }
};

struct TransportCounters {
  Counter rtp_packets_in, rtcp_packets_in, bytes_in;
  Counter rtp_packets_out, rtcp_packets_out, bytes_out;
  Counter control_packets_in, control_packets_out;  // STUN and DTLS, to and from control
  Counter transport_cc_feedbacks_sent;              // for its producers' senders
  Counter available_bitrate_bps;                    // consumers' side: from the endpoint's feedback
  Counter remb_bps;                                 // the endpoint's last REMB, 0 if none
  Counter advertised_bitrate_bps;  // the last REMB weir sent its producers' endpoint
  DropCounters dropped;
};

struct ProducerCounters {
  Counter packets, bytes;
  Counter lost;        // RFC 3550 cumulative lost: expected - received (never negative)
  Counter keyframes;
  Counter highest_seq; // extended highest sequence number received
  Counter keyframe_requests;            // PLI/FIR sent to its endpoint
  Counter keyframe_requests_throttled;  // requests folded into one sent shortly before
  Counter nacked;                       // sequence numbers asked for again
  Counter retransmitted;                // recovered packets that arrived (RTX or resent)
  Counter jitter;                       // RFC 3550 interarrival jitter, RTP timestamp units
  Counter fraction_lost;                // of the last report sent, 0..255
  // The ssrc-audio-level extension (RFC 6464): the sum of the levels (-dBov, 0..127,
  // 0 loudest) of the packets that carried one, and how many did. Both only grow, so the
  // control thread averages an interval from two readings without resetting anything.
  Counter audio_level_sum, audio_level_packets;
  // Packets per stream (index = simulcast spatial layer; [0] only for a single stream).
  // For a simulcast producer, lost and highest_seq above are the sum over its streams,
  // updated on the worker's tick rather than per packet; jitter and fraction_lost are the
  // worst stream's.
  Counter encoding_packets[4];
  DropCounters dropped;
};

struct ConsumerCounters {
  Counter packets, bytes;
  Counter keyframe_requests;       // PLI/FIR its endpoint sent
  Counter nacked;                  // sequence numbers its endpoint asked for again
  Counter retransmitted;           // of those, sent again from the producer's history
  Counter rtt_us;                  // from its endpoint's reports on our SRs, 0: not yet known
  Counter reported_fraction_lost;  // its endpoint's last report, 0..255
  Counter reported_lost;           // cumulative, as its endpoint reports it
  // Simulcast: the spatial layer forwarded now, plus one (0: nothing forwarded yet; while
  // paused or resynchronising it keeps the last one). Stays 0 for a single-stream producer.
  Counter current_spatial_layer;
  // Simulcast: packets of the producer's other spatial layers, and of temporal layers above
  // the preferred one, not forwarded to this consumer. Not a drop: the producer sends every
  // layer for whoever wants it.
  Counter other_layer_packets;
  // Packets that arrived after its numbering had moved past them (a layer switch, resync or
  // temporal gap since): not forwarded, they would collide with numbers already used.
  Counter late_packets;
  DropCounters dropped;
};

struct WorkerCounters {
  Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
  Counter commands_applied;
  Counter loop_iterations;
  // Pipes to and from other workers (worker_pipes.h): packets sent into a pipe, taken out
  // of one, dropped because the pipe was full (media or key-frame requests), and taken out
  // for a producer this worker no longer has (removed while packets were in flight).
  Counter piped_out, piped_in, pipe_full, pipe_unknown_producer;
  DropCounters dropped;  // drops before a transport is known (e.g. unknown socket)
};

}  // namespace weir::dp
