// The one JSON line a scenario prints (docs/benchmarks.md "What every scenario prints").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace weir::pktgen {

struct FanoutResult {
  std::string mode = "uring";
  std::string transport = "plain";  // "webrtc" is printed after mode; plain lines stay as they were
  std::string suite;
  uint32_t producers = 1;
  uint32_t consumers = 0;           // the measured ones
  uint32_t impaired_consumers = 0;  // WebRTC runs: broken on purpose; printed when not 0
  uint32_t offered_pps = 0;
  double duration_s = 0;
  uint64_t sent = 0;
  uint64_t expected = 0;
  uint64_t forwarded = 0;
  std::optional<double> server_cpu_s;  // absent without --server-pid: printed as null
  uint64_t latency_p50_us = 0;
  uint64_t latency_p99_us = 0;
  std::optional<double> server_rss_mb;
  // The server's VmRSS before this run built its room: with server_rss_mb, the line gets
  // server_kib_per_consumer, the growth per consumer (meaningful on a weir that has not
  // served a larger run before: freed memory stays in its heap).
  std::optional<double> server_rss_before_mb;
  double protect_ns = 0;
  std::string git = "unknown";
};

// The meeting scenario's figures: the fanout's (producers and consumers are totals,
// offered_pps the sum over all producers) and the meeting's shape.
struct MeetingResult {
  FanoutResult figures;
  uint32_t rooms = 0;
  uint32_t peers = 0;  // per room
  uint32_t audio_pps = 0;
  uint32_t video_pps = 0;
};

double loss_pct(uint64_t expected, uint64_t forwarded);
// Keys in the order of benchmarks.md; one line, no trailing newline.
std::string format_fanout_line(const FanoutResult& r);
// {"scenario":"meeting","mode","suite","rooms","peers","producers","consumers",
// "offered_pps","audio_pps","video_pps", then from "duration_s" on as a fanout line.
std::string format_meeting_line(const MeetingResult& m);

}  // namespace weir::pktgen
