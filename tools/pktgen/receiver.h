// The consumer side of pktgen: N UDP sockets on one io_uring engine, received in bursts
// on the calling thread. Every packet is checked against its consumer: SSRC, SRTP
// authentication with the key weir announced for that transport, sequence continuity,
// and the stamp that places it in the measured window and gives its one-way latency.
// Per-packet work touches only preallocated state.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/packet_pool.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "fanout_scenario.h"
#include "latency_histogram.h"
#include "sequence_tracker.h"

namespace weir::pktgen {

struct ReceiverStats {
  uint64_t packets = 0;
  uint64_t not_rtp = 0;     // RTCP (weir's SR/SDES) and anything else that is not RTP
  uint64_t foreign = 0;     // RTP with another SSRC, or on a socket of no consumer
  uint64_t verified = 0;    // authenticated (or plain) and stamp read
  uint64_t unverified = 0;  // counted by header only (--verify-sample)
  uint64_t auth_failed = 0;
  uint64_t replayed = 0;
  uint64_t srtp_other = 0;
  uint64_t malformed = 0;  // not parseable as RTP after unprotect, or no stamp
  uint64_t late = 0;       // reordered or duplicated (not newer than the highest)
};

class Receiver {
 public:
  static constexpr size_t kBurst = 64;

  // Opens `count` sockets on ephemeral ports of local_ip.
  static std::unique_ptr<Receiver> create(const std::string& local_ip, uint32_t count,
                                          std::string* error);
  const std::vector<uint16_t>& ports() const { return ports_; }

  // Arms consumer i (socket i) with what weir told about it. suite nullopt: plain RTP.
  bool attach(const std::vector<ConsumerInfo>& consumers, std::optional<dp::SrtpSuite> suite,
              uint32_t verify_sample, std::string* error);

  // Packets whose stamp counter is in [begin, end) are the measured window's.
  void set_window_begin(uint64_t begin) { window_begin_ = begin; }
  void set_window_end(uint64_t end) { window_end_ = end; }

  // Receives and checks one burst, waiting at most timeout_us for it. Returns packets seen.
  size_t poll(uint32_t timeout_us);

  uint32_t consumers_seen() const { return consumers_seen_; }
  // True when every consumer has received a packet numbered at least `counter`.
  bool all_reached(uint64_t counter) const;
  uint64_t window_forwarded() const { return window_forwarded_; }
  const LatencyHistogram& window_latency() const { return latency_; }
  const ReceiverStats& stats() const { return stats_; }
  uint64_t gaps() const;
  uint64_t missing() const;
  const dp::EngineStats& engine_stats() const { return engine_->stats(); }
  uint32_t pool_available() const { return pool_.available(); }

 private:
  struct Consumer {
    std::unique_ptr<dp::SrtpSession> srtp;
    uint32_t ssrc = 0;
    SequenceTracker sequence;
    bool have_offset = false;
    int64_t counter_offset = 0;  // stamp counter - extended sequence, learnt when verified
    bool seen = false;
    uint64_t highest_counter = 0;
  };

  Receiver(uint32_t pool_size) : pool_(pool_size) {}
  void handle(Consumer& c, dp::PacketBuffer& buf, uint64_t now);

  dp::PacketPool pool_;
  std::unique_ptr<dp::UdpEngine> engine_;
  std::vector<uint16_t> ports_;
  std::vector<uint32_t> socket_to_consumer_;
  std::vector<Consumer> consumers_;
  uint32_t verify_sample_ = 1;
  uint64_t window_begin_ = std::numeric_limits<uint64_t>::max();
  uint64_t window_end_ = std::numeric_limits<uint64_t>::max();
  uint64_t window_forwarded_ = 0;
  uint32_t consumers_seen_ = 0;
  LatencyHistogram latency_;
  ReceiverStats stats_;
};

}  // namespace weir::pktgen
