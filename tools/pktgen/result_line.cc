#include "result_line.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace weir::pktgen {
namespace {

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

}  // namespace

double loss_pct(uint64_t expected, uint64_t forwarded) {
  if (expected == 0) return 0;
  const uint64_t lost = forwarded >= expected ? 0 : expected - forwarded;
  return 100.0 * static_cast<double>(lost) / static_cast<double>(expected);
}

namespace {

// Everything from duration_s on, common to every scenario's line.
void put_measurements(nlohmann::ordered_json& j, const FanoutResult& r) {
  j["duration_s"] = round_to(r.duration_s, 3);
  j["sent"] = r.sent;
  j["expected"] = r.expected;
  j["forwarded"] = r.forwarded;
  j["loss_pct"] = round_to(loss_pct(r.expected, r.forwarded), 4);
  if (r.server_cpu_s) {
    j["server_cpu_s"] = round_to(*r.server_cpu_s, 3);
    j["cpu_ns_per_fwd"] = r.forwarded == 0
                              ? nlohmann::ordered_json(nullptr)
                              : nlohmann::ordered_json(static_cast<uint64_t>(std::llround(
                                    *r.server_cpu_s * 1e9 / static_cast<double>(r.forwarded))));
  } else {
    j["server_cpu_s"] = nullptr;
    j["cpu_ns_per_fwd"] = nullptr;
  }
  j["latency_us"] = {{"p50", r.latency_p50_us}, {"p99", r.latency_p99_us}};
  if (r.server_rss_mb) {
    j["server_rss_mb"] = round_to(*r.server_rss_mb, 1);
    if (r.server_rss_before_mb && r.consumers > 0) {
      j["server_kib_per_consumer"] =
          round_to((*r.server_rss_mb - *r.server_rss_before_mb) * 1024.0 / r.consumers, 1);
    }
  } else {
    j["server_rss_mb"] = nullptr;
  }
  j["protect_ns"] = static_cast<uint64_t>(std::llround(r.protect_ns));
  j["git"] = r.git;
}

}  // namespace

std::string format_fanout_line(const FanoutResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = "fanout";
  j["mode"] = r.mode;
  if (r.transport != "plain") j["transport"] = r.transport;
  j["suite"] = r.suite;
  j["producers"] = r.producers;
  j["consumers"] = r.consumers;
  if (r.impaired_consumers > 0) j["impaired_consumers"] = r.impaired_consumers;
  j["offered_pps"] = r.offered_pps;
  put_measurements(j, r);
  return j.dump();
}

std::string format_meeting_line(const MeetingResult& m) {
  const FanoutResult& r = m.figures;
  nlohmann::ordered_json j;
  j["scenario"] = "meeting";
  j["mode"] = r.mode;
  j["suite"] = r.suite;
  j["rooms"] = m.rooms;
  j["peers"] = m.peers;
  j["producers"] = r.producers;
  j["consumers"] = r.consumers;
  j["offered_pps"] = r.offered_pps;
  j["audio_pps"] = m.audio_pps;
  j["video_pps"] = m.video_pps;
  put_measurements(j, r);
  return j.dump();
}

}  // namespace weir::pktgen
