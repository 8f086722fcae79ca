// The consumer side of pktgen: N UDP sockets on one io_uring engine (or N local ports of
// pktgen's DPDK port, dpdk_media.h), received in bursts on the calling thread; a socket carries one
// consumer (fanout) or several told apart by SSRC (a meeting peer's transport). Every packet is
// checked against its consumer: SSRC, SRTP authentication with the key weir announced for that
// transport, sequence continuity, and the stamp that places it in the measured window and gives its
// one-way latency. Per-packet work touches only preallocated state. In WebRTC mode the same sockets
// also carry ICE and DTLS: those datagrams go to a ControlSink (the consumers' endpoints), the keys
// come from DTLS-SRTP, and consumers send SRTCP receiver reports back.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datagram_demux.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/packet_pool.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "dpdk_media.h"
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
  uint64_t to_sender = 0;  // DPDK mode: weir's RTCP for the producer (its port is served here);
                           // its ICE and DTLS are handed back to the sender thread
  // WebRTC mode only:
  uint64_t control = 0;          // STUN and DTLS handed to the ControlSink
  uint64_t before_keys = 0;      // SRTP that came before this side's DTLS handshake ended
  uint64_t ignored = 0;          // anything for a consumer told to ignore its socket
  uint64_t mid_mismatch = 0;     // verified packets without the consumer's MID
  uint64_t reports_sent = 0;     // SRTCP receiver reports
  uint64_t report_failures = 0;  // reports that could not be built, protected or queued
};

class Receiver {
 public:
  static constexpr size_t kBurst = 64;

  // Where a WebRTC consumer's ICE and DTLS datagrams go (valid only during the call).
  class ControlSink {
   public:
    virtual ~ControlSink() = default;
    virtual void on_control_datagram(uint32_t consumer, DatagramKind kind, const uint8_t* data,
                                     size_t len) = 0;
  };

  // Opens `count` sockets on ephemeral ports of local_ip.
  static std::unique_ptr<Receiver> create(const std::string& local_ip, uint32_t count,
                                          std::string* error);
  // DPDK mode: `count` local ports of media's port from first_port up, on its engine (which
  // also serves the sender's port). media outlives the receiver.
  static std::unique_ptr<Receiver> create(DpdkMedia& media, uint32_t count, uint16_t first_port,
                                          std::string* error);
  const std::vector<uint16_t>& ports() const { return ports_; }

  // Arms consumer i (on socket i, or on its ConsumerInfo::socket) with what weir told
  // about it. suite nullopt: plain RTP.
  bool attach(const std::vector<ConsumerInfo>& consumers, std::optional<dp::SrtpSuite> suite,
              uint32_t verify_sample, std::string* error);
  // WebRTC mode: consumer i talks to remotes[i] (weir's candidate), its STUN and DTLS go to
  // sink, and its SRTP is dropped (before_keys) until set_keys.
  bool attach_webrtc(const std::vector<ConsumerInfo>& consumers,
                     const std::vector<dp::SocketAddress>& remotes, uint32_t verify_sample,
                     ControlSink& sink, std::string* error);
  // DTLS-SRTP's keys for consumer i: remote unprotects weir's SRTP, local protects the
  // receiver reports.
  bool set_keys(uint32_t consumer, const dp::DtlsSrtpKeys& keys, std::string* error);
  // One datagram from consumer i's socket to its remote; false if no buffer was free.
  bool send(uint32_t consumer, const uint8_t* data, size_t len);
  // An unmeasured consumer (deliberately broken or silenced) counts in no window figure.
  void set_measured(uint32_t consumer, bool measured);
  // Everything arriving for an ignoring consumer is dropped unread.
  void set_ignoring(uint32_t consumer, bool ignoring);
  // Every interval_ns (0: never), each keyed consumer sends a receiver report (RR + SDES).
  void set_report_interval(uint64_t interval_ns) { report_interval_ns_ = interval_ns; }
  void send_due_reports(uint64_t now_ns);
  // Media packets consumer i accepted, in all and inside the window.
  uint64_t consumer_received(uint32_t consumer) const { return consumers_[consumer].received; }
  uint64_t consumer_window_forwarded(uint32_t consumer) const {
    return consumers_[consumer].window_forwarded;
  }

  // Packets whose stamp counter is in [begin, end) are the measured window's: of every
  // stream, or of the consumers of one stream (ConsumerInfo::stream).
  void set_window_begin(uint64_t begin) { window_begin_.assign(window_begin_.size(), begin); }
  void set_window_end(uint64_t end) { window_end_.assign(window_end_.size(), end); }
  void set_window_begin(uint32_t stream, uint64_t begin) { window_begin_.at(stream) = begin; }
  void set_window_end(uint32_t stream, uint64_t end) { window_end_.at(stream) = end; }

  // Receives and checks one burst, waiting at most timeout_us for it. Returns packets seen.
  size_t poll(uint32_t timeout_us);

  // Measured consumers that have received a packet.
  uint32_t consumers_seen() const { return consumers_seen_; }
  // True when every measured consumer has received a packet numbered at least `counter`.
  bool all_reached(uint64_t counter) const;
  // True when every measured consumer has received a packet numbered at least
  // ends[its stream] - 1 (nothing is awaited from a stream whose end is 0).
  bool all_reached_ends(const std::vector<uint64_t>& ends) const;
  uint64_t window_forwarded() const { return window_forwarded_; }
  const LatencyHistogram& window_latency() const { return latency_; }
  const ReceiverStats& stats() const { return stats_; }
  uint64_t gaps() const;
  uint64_t missing() const;
  const dp::EngineStats& engine_stats() const { return engine_->stats(); }
  uint32_t pool_available() const { return pool_->available(); }

 private:
  struct Consumer {
    std::unique_ptr<dp::SrtpSession> srtp;
    uint32_t ssrc = 0;
    SequenceTracker sequence;
    bool have_offset = false;
    int64_t counter_offset = 0;  // stamp counter - extended sequence, learnt when verified
    bool seen = false;
    uint64_t highest_counter = 0;
    bool measured = true;
    bool webrtc = false;
    bool ignoring = false;
    uint32_t socket = 0;
    uint32_t next_on_socket = 0;  // the next consumer sharing the socket, or none
    uint32_t stream = 0;
    uint32_t report_ssrc = 0;
    uint8_t mid_extension_id = 0;  // 0: no MID expected
    std::string mid;
    uint64_t received = 0;
    uint64_t window_forwarded = 0;
    dp::SocketAddress remote;
    std::unique_ptr<dp::SrtpSession> srtcp_out;
  };

  Receiver(dp::PacketPool& pool, dp::UdpEngine& engine) : pool_(&pool), engine_(&engine) {}
  Receiver(std::unique_ptr<dp::PacketPool> pool, std::unique_ptr<dp::UdpEngine> engine)
      : own_pool_(std::move(pool)),
        own_engine_(std::move(engine)),
        pool_(own_pool_.get()),
        engine_(own_engine_.get()) {}
  bool add_socket(uint32_t consumer, const dp::UdpBinding& binding, uint16_t port,
                  std::string* error);
  bool arm(const std::vector<ConsumerInfo>& consumers, uint32_t verify_sample, std::string* error);
  void handle(uint32_t index, Consumer& c, dp::PacketBuffer& buf, uint64_t now);
  uint32_t consumer_by_ssrc(uint32_t first, const dp::PacketBuffer& buf) const;
  size_t write_report(Consumer& c, uint8_t* out, size_t capacity);

  // Kernel mode: the receiver's own; DPDK mode: the media's.
  std::unique_ptr<dp::PacketPool> own_pool_;
  std::unique_ptr<dp::UdpEngine> own_engine_;
  dp::PacketPool* pool_;
  dp::UdpEngine* engine_;
  uint32_t sender_socket_ = std::numeric_limits<uint32_t>::max();  // DPDK mode
  DpdkMedia* media_ = nullptr;  // DPDK mode: hands the producer's ICE and DTLS back
  std::vector<uint16_t> ports_;
  std::vector<uint32_t> socket_to_consumer_;
  std::vector<uint32_t> consumer_socket_;
  std::vector<Consumer> consumers_;
  ControlSink* control_ = nullptr;
  uint64_t report_interval_ns_ = 0;
  uint64_t next_report_ns_ = 0;
  uint32_t verify_sample_ = 1;
  // Per stream.
  std::vector<uint64_t> window_begin_{std::numeric_limits<uint64_t>::max()};
  std::vector<uint64_t> window_end_{std::numeric_limits<uint64_t>::max()};
  uint64_t window_forwarded_ = 0;
  uint32_t consumers_seen_ = 0;
  LatencyHistogram latency_;
  ReceiverStats stats_;
};

}  // namespace weir::pktgen
