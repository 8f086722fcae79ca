// The producer side of pktgen: one UDP socket on its own thread, sending the video-like
// stream at an exact rate. Deadlines are absolute (start + k/rate, slept to with
// clock_nanosleep TIMER_ABSTIME), so a late wake-up is caught up in one burst and the
// long-run rate never drifts.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/packet_pool.h"
#include "dataplane/socket_address.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "media_payload.h"

namespace weir::pktgen {

struct SenderConfig {
  std::string local_ip;
  dp::SocketAddress remote;            // the producer transport
  std::optional<dp::SrtpSuite> suite;  // nullopt: plain RTP
  std::vector<uint8_t> key;            // pktgen's master key for that transport
  VideoStreamConfig stream;
};

struct SenderStats {
  uint64_t protect_failures = 0;
  uint64_t no_buffer = 0;
  uint64_t late_bursts = 0;  // wake-ups that found more than one packet due
};

class Sender {
 public:
  static constexpr size_t kMaxBurst = 64;

  static std::unique_ptr<Sender> create(const SenderConfig& config, std::string* error);
  ~Sender();

  // Starts the thread, which sets up its engine and socket itself (an io_uring engine
  // belongs to the thread that first uses it), and waits for that setup.
  bool start(std::string* error);
  void stop();  // joins the thread; idempotent

  // Counter of the next packet to be sent: every packet numbered below it has been handed
  // to the engine (or is in the burst being handed over right now).
  uint64_t next_counter() const { return next_counter_.load(std::memory_order_acquire); }
  // Valid after stop().
  const SenderStats& stats() const { return stats_; }
  const dp::EngineStats& engine_stats() const { return engine_->stats(); }

 private:
  explicit Sender(const SenderConfig& config);
  bool setup(std::string* error);
  void run();

  SenderConfig config_;
  VideoPacketizer packetizer_;
  dp::PacketPool pool_;
  std::unique_ptr<dp::UdpEngine> engine_;
  std::unique_ptr<dp::SrtpSession> srtp_;
  uint32_t socket_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> next_counter_{0};
  SenderStats stats_;
};

}  // namespace weir::pktgen
