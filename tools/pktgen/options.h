// pktgen's command line. Parsing is pure (no I/O) so that tests can feed it argv arrays.
#pragma once

#include <cstdint>
#include <string>

namespace weir::pktgen {

// DPDK mode: pktgen's UDP ports, the sender's first, then one per consumer socket.
constexpr uint32_t kFirstDpdkPort = 10000;
constexpr uint32_t kMaxDpdkSockets = 50000;
constexpr uint32_t kMaxDpdkQueues = 8;

struct Options {
  std::string api = "https://127.0.0.1:4443";
  std::string room;  // empty: a random id is chosen at start
  uint32_t consumers = 100;
  uint32_t rate_pps = 100;
  double duration_s = 10;
  double warmup_s = 2;
  uint32_t payload_bytes = 1100;
  std::string suite = "AES_CM_128_HMAC_SHA1_80";  // or "none" for plain RTP
  int server_pid = 0;                             // 0: server CPU/RSS not measured
  std::string local_ip = "127.0.0.1";
  std::string mode = "uring";  // or "dpdk": media on pktgen's own DPDK port
  // DPDK mode (dpdk_media.h):
  std::string dpdk_eal_args;  // EAL's arguments, e.g. "--no-huge --no-pci -m 1024 --vdev=..."
  uint32_t dpdk_prefix_length = 24;  // on-link subnet of --local-ip
  uint32_t dpdk_mbufs = 65535;       // per queue
  uint32_t dpdk_queues = 1;          // RX/TX queue pairs, all polled by the receiving thread
  std::string git = "unknown";
  uint32_t verify_sample = 1;
  std::string transport = "plain";  // or "webrtc"
  // WebRTC mode:
  std::string dtls_role = "client";  // pktgen's DTLS role: client | server | mixed
  double consent_interval_s = 3;
  double rtcp_interval_s = 1;  // consumers' receiver reports; 0: none
  uint32_t bad_fingerprint_consumers = 0;
  uint32_t silent_consumers = 0;
  double silence_at_s = 1;       // into the window
  std::string restart_ice;       // "", "producer", "consumer" or "both"
  double restart_ice_at_s = -1;  // into the window; negative: half the window
  std::string report_path;       // --report: per-transport JSON for tests
  // Scenario (docs/benchmarks.md): fanout (the default) or meeting, R rooms x K peers where
  // every peer produces audio and video (at rate_pps, payload_bytes) and consumes the
  // others of its room.
  std::string scenario = "fanout";
  uint32_t rooms = 1;
  uint32_t peers = 4;
  uint32_t audio_rate_pps = 50;
  uint32_t audio_payload_bytes = 160;
  bool quiet = false;
  bool help = false;
};

// Accepts "--name value" and "--name=value". False with *error naming the option on an
// unknown option, a missing value, a value out of range, or options that do not go
// together (WebRTC-only options in plain mode, more impaired consumers than consumers,
// meeting options in a fanout, fanout-only options in a meeting, DPDK options without
// --mode dpdk, DPDK mode without EAL arguments or an IPv4 --local-ip, or with WebRTC).
bool parse_options(int argc, const char* const* argv, Options& out, std::string* error);
const char* usage_text();

}  // namespace weir::pktgen
