// The producer side of pktgen: one UDP socket on its own thread (in DPDK mode the port of
// pktgen's DPDK port reserved for it, its packets posted to the receiving thread, which
// owns the queue: dpdk_media.h), sending the video-like
// stream (or, for the meeting scenario, several audio and video streams to several
// producer transports) at exact rates. Deadlines are absolute (start + k/rate, slept to
// with clock_nanosleep TIMER_ABSTIME), so a late wake-up is caught up in one burst and the
// long-run rate never drifts. In WebRTC mode the thread first runs ICE and DTLS-SRTP on
// the socket (the stream starts when the keys are there), and keeps answering for ICE
// (consent checks, restarts) between packets.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/packet_pool.h"
#include "dataplane/socket_address.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "dpdk_media.h"
#include "media_payload.h"
#include "webrtc_endpoint.h"

namespace weir::pktgen {

// One stream of a several-stream sender: where it goes, with which key, at which rate.
struct SenderStream {
  dp::SocketAddress remote;  // its producer transport
  std::vector<uint8_t> key;  // pktgen's master key for that transport
  VideoStreamConfig stream;
};

struct SenderConfig {
  std::string local_ip;
  dp::SocketAddress remote;            // the producer transport
  std::optional<dp::SrtpSuite> suite;  // nullopt: plain RTP
  std::vector<uint8_t> key;            // pktgen's master key for that transport
  VideoStreamConfig stream;
  // Not empty: these streams are sent instead of the one above (remote, key, stream), each
  // on its own schedule, phases spread over a packet interval. Plain mode only.
  std::vector<SenderStream> streams;
  // Set: WebRTC mode. suite and key are then unused: DTLS-SRTP brings both. Its `local`
  // is filled in by the thread once the socket is bound.
  std::optional<WebRtcEndpointConfig> webrtc;
  // Set: DPDK mode (plain or WebRTC), local_ip unused: the socket is media's sender port. media
  // outlives the sender.
  DpdkMedia* dpdk = nullptr;
};

struct SenderStats {
  uint64_t protect_failures = 0;
  uint64_t no_buffer = 0;
  uint64_t late_bursts = 0;  // wake-ups that found more than one packet due
};

class Sender final : private WebRtcEndpoint::Owner {
 public:
  static constexpr size_t kMaxBurst = 64;
  enum class Link : uint8_t { connecting, up, failed };

  static std::unique_ptr<Sender> create(const SenderConfig& config, std::string* error);
  ~Sender() override;

  // Starts the thread, which sets up its engine and socket itself (an io_uring engine
  // belongs to the thread that first uses it), and waits for that setup.
  bool start(std::string* error);
  void stop();  // joins the thread; idempotent

  // Counter of stream i's next packet to be sent: every packet numbered below it has been
  // handed to the engine (or is in the burst being handed over right now).
  uint64_t next_counter(size_t stream = 0) const {
    return streams_[stream]->next_counter.load(std::memory_order_acquire);
  }
  size_t stream_count() const { return streams_.size(); }
  // Valid after stop().
  const SenderStats& stats() const { return stats_; }
  const dp::EngineStats& engine_stats() const { return engine_->stats(); }

  // WebRTC mode, from any thread. Plain mode is up once started.
  Link link() const { return link_.load(std::memory_order_acquire); }
  std::string failure() const;
  // WebRTC mode: the stream starts only once this is called (after the consumers are up),
  // so that every consumer sees its first key frame, as in plain mode.
  void release_stream() { released_.store(true, std::memory_order_release); }
  // Hands weir's restartIce answer to the sending thread, which switches at its next wake.
  void restart_ice(IceCredentials remote);
  uint32_t ice_restarts_completed() const {
    return restarts_completed_.load(std::memory_order_acquire);
  }
  // The endpoint's counters, valid after stop().
  const WebRtcEndpointStats* webrtc_stats() const { return peer_ ? &peer_->stats() : nullptr; }

 private:
  struct Stream {
    explicit Stream(const SenderStream& s) : config(s), packetizer(s.stream) {}
    SenderStream config;
    VideoPacketizer packetizer;
    std::unique_ptr<dp::SrtpSession> srtp;
    uint64_t start_ns = 0;  // deadline of packet k: start_ns + k * 1e9 / rate
    uint64_t k = 0;         // the next packet's counter, on the thread
    std::atomic<uint64_t> next_counter{0};
    uint64_t deadline() const { return start_ns + k * 1000000000ull / config.stream.rate_pps; }
  };
  // The stream due first, on top of a min-heap of stream indexes (built once, no allocation).
  struct DueLater {
    const std::vector<std::unique_ptr<Stream>>* streams;
    bool operator()(uint32_t a, uint32_t b) const {
      return (*streams)[a]->deadline() > (*streams)[b]->deadline();
    }
  };

  explicit Sender(const SenderConfig& config);
  bool setup(std::string* error);
  void make_peer(const dp::SocketAddress& local);
  void run();
  bool handshake();
  void wait_for_release();
  void pace();
  size_t write_due(Stream& st, uint64_t now, dp::TxPacket* burst, size_t n);
  void serve_peer(const dp::RxPacket* rx, size_t n);
  void drain(dp::RxPacket* rx, size_t max);
  void set_failed(std::string reason);

  // WebRtcEndpoint::Owner, on the sending thread.
  void send_datagram(const uint8_t* data, size_t len) override;
  void on_srtp_keys(const dp::DtlsSrtpKeys& keys) override;

  SenderConfig config_;
  // Stream 0 is the one of config_.stream (and the WebRTC one) unless config_.streams is set.
  // Pointers: a Stream holds an atomic and is not movable.
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<uint32_t> due_;  // the heap
  std::unique_ptr<dp::PacketPool> pool_;
  std::unique_ptr<dp::UdpEngine> engine_;  // made on the thread (DPDK mode: by create)
  std::unique_ptr<WebRtcEndpoint> peer_;
  uint32_t socket_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<Link> link_{Link::connecting};
  std::atomic<uint32_t> restarts_completed_{0};
  std::atomic<bool> restart_waiting_{false};
  std::atomic<bool> released_{false};
  mutable std::mutex mutex_;  // guards the two below
  std::optional<IceCredentials> restart_;
  std::string failure_;
  SenderStats stats_;
};

}  // namespace weir::pktgen
