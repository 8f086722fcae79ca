#include "meeting_run.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <optional>
#include <unordered_set>

#include "api_client.h"
#include "base/clock.h"
#include "dataplane/srtp_session.h"
#include "meeting_scenario.h"
#include "proc_stats.h"
#include "receiver.h"
#include "result_line.h"
#include "run_common.h"
#include "sender.h"
#include "srtp_keys.h"

namespace weir::pktgen {
namespace {

constexpr uint64_t kSecond = 1000000000ull;
// After the window, packets sent in it may still be in flight; wait this long at most.
constexpr uint64_t kDrainNs = kSecond;
constexpr uint32_t kProtectIterations = 4000;  // x5 batches

struct Teardown {
  MeetingScenario* scenario = nullptr;
  ~Teardown() {
    if (scenario == nullptr) return;
    std::string error;
    if (!scenario->teardown(&error)) std::fprintf(stderr, "pktgen: teardown: %s\n", error.c_str());
  }
};

// Distinct non-zero SSRCs for every stream pktgen sends.
uint32_t fresh_ssrc(std::unordered_set<uint32_t>& used) {
  for (;;) {
    const uint32_t ssrc = random_u32() | 1u;
    if (used.insert(ssrc).second) return ssrc;
  }
}

MeetingSpec make_spec(const Options& o, const std::optional<dp::SrtpSuite>& suite,
                      const std::vector<uint16_t>& ports) {
  MeetingSpec spec;
  const std::string base = o.room.empty() ? random_room() : o.room;
  for (uint32_t r = 0; r < o.rooms; ++r) spec.rooms.push_back(base + "-" + std::to_string(r));
  spec.peers_per_room = o.peers;
  spec.suite = o.suite;
  spec.local_ip = o.local_ip;
  std::unordered_set<uint32_t> ssrcs;
  for (uint32_t i = 0; i < o.rooms * o.peers; ++i) {
    MeetingPeerSpec p;
    if (suite) p.sender_key = random_bytes(dp::srtp_master_length(*suite));
    p.audio_ssrc = fresh_ssrc(ssrcs);
    p.video_ssrc = fresh_ssrc(ssrcs);
    p.receive_port = ports[i];
    spec.peers.push_back(std::move(p));
  }
  return spec;
}

VideoStreamConfig stream_config(MediaKind kind, uint32_t ssrc, uint8_t payload_type,
                                uint32_t rate_pps, uint32_t payload_bytes) {
  VideoStreamConfig c;
  c.kind = kind;
  c.ssrc = ssrc;
  c.payload_type = payload_type;
  c.rate_pps = rate_pps;
  c.payload_size = payload_bytes;
  c.first_sequence = static_cast<uint16_t>(random_u32());
  c.first_timestamp = random_u32();
  return c;
}

int run(const Options& o) {
  Progress progress(o.quiet);
  RunBasics basics;
  int exit_code = 0;
  if (!prepare_run(o, basics, &exit_code)) return exit_code;
  const std::optional<dp::SrtpSuite>& suite = basics.suite;
  std::string error;
  const uint32_t peer_count = o.rooms * o.peers;

  // One socket per peer: its receiving transport carries all 2(K-1) of its consumers.
  // Before the receiver and sender: its port and pools outlive them.
  std::unique_ptr<DpdkMedia> dpdk;
  if (!open_dpdk_media(o, progress, &dpdk)) return 1;
  auto receiver = make_receiver(o, dpdk.get(), peer_count, &error);
  if (!receiver) {
    std::fprintf(stderr, "pktgen: receiving sockets: %s\n", error.c_str());
    return 1;
  }
  // The server's memory before this run adds anything to it.
  ProcessSample server_before;
  const bool before_ok = o.server_pid != 0 && sample_process(o.server_pid, server_before);
  ApiClient api(basics.host, basics.port, basics.tls);
  MeetingScenario scenario(api);
  Teardown teardown;
  teardown.scenario = &scenario;
  const MeetingSpec spec = make_spec(o, suite, receiver->ports());
  MeetingPlan plan;
  const uint64_t build_start = now_ns();
  uint64_t last_report = build_start;
  if (!scenario.build(spec, plan, &error, [&](size_t done) {
        const uint64_t t = now_ns();
        if (t - last_report >= kSecond) {
          last_report = t;
          progress.line("pktgen: building: %zu/%u peers\n", done, peer_count);
        }
      })) {
    std::fprintf(stderr, "pktgen: building the scenario failed: %s\n", error.c_str());
    return 1;
  }
  progress.line(
      "pktgen: %u rooms x %u peers (%s...): %zu producers, %zu consumers built in %.1f s\n",
      o.rooms, o.peers, spec.rooms.front().c_str(), plan.peers.size() * 2, plan.consumers.size(),
      static_cast<double>(now_ns() - build_start) / 1e9);
  if (!receiver->attach(plan.consumers, suite, o.verify_sample, &error)) {
    std::fprintf(stderr, "pktgen: %s\n", error.c_str());
    return 1;
  }

  SenderConfig sc;
  sc.local_ip = o.local_ip;
  sc.dpdk = dpdk.get();
  sc.suite = suite;
  for (uint32_t i = 0; i < peer_count; ++i) {
    const MeetingPeer& peer = plan.peers[i];
    const auto remote = dp::SocketAddress::parse(peer.send_ip, peer.send_port);
    if (!remote) {
      std::fprintf(stderr, "pktgen: sending transport address %s:%u is not an IP address\n",
                   peer.send_ip.c_str(), peer.send_port);
      return 1;
    }
    const MeetingPeerSpec& ps = spec.peers[i];
    // In stream order: meeting_stream(i, false) then meeting_stream(i, true).
    sc.streams.push_back({*remote, ps.sender_key,
                          stream_config(MediaKind::audio, ps.audio_ssrc, spec.audio_payload_type,
                                        o.audio_rate_pps, o.audio_payload_bytes)});
    sc.streams.push_back({*remote, ps.sender_key,
                          stream_config(MediaKind::video, ps.video_ssrc, spec.video_payload_type,
                                        o.rate_pps, o.payload_bytes)});
  }
  auto sender = Sender::create(sc, &error);
  if (!sender || !sender->start(&error)) {
    std::fprintf(stderr, "pktgen: sender: %s\n", error.c_str());
    return 1;
  }
  const size_t streams = sender->stream_count();
  const uint32_t consumers = static_cast<uint32_t>(plan.consumers.size());

  // Warm-up: until every consumer has a packet, or the warm-up time is over.
  const uint64_t start = now_ns();
  const uint64_t warmup_end = start + static_cast<uint64_t>(o.warmup_s * 1e9);
  while (receiver->consumers_seen() < consumers && now_ns() < warmup_end) receiver->poll(10000);
  if (receiver->consumers_seen() < consumers) {
    std::fprintf(stderr, "pktgen: warm-up over with %u of %u consumers receiving\n",
                 receiver->consumers_seen(), consumers);
  }

  // The window, defined per stream by the sender's packet counters.
  ProcessSample cpu_begin, cpu_end, sample;
  bool cpu_ok = o.server_pid == 0 || sample_process(o.server_pid, cpu_begin);
  uint64_t rss_max_kb = cpu_begin.rss_kb;
  std::vector<uint64_t> begin(streams), end(streams);
  for (uint32_t s = 0; s < streams; ++s) {
    begin[s] = sender->next_counter(s);
    receiver->set_window_begin(s, begin[s]);
  }
  const uint64_t t0 = now_ns();
  const uint64_t t1 = t0 + static_cast<uint64_t>(o.duration_s * 1e9);
  uint64_t next_line = t0 + kSecond;
  uint64_t last_fwd = 0;
  for (uint64_t now = t0; now < t1; now = now_ns()) {
    receiver->poll(static_cast<uint32_t>(std::min<uint64_t>((t1 - now) / 1000 + 1, 10000)));
    if (now >= next_line) {
      next_line += kSecond;
      if (o.server_pid != 0 && sample_process(o.server_pid, sample) && sample.rss_kb > rss_max_kb) {
        rss_max_kb = sample.rss_kb;
      }
      const uint64_t fwd = receiver->window_forwarded();
      const auto& st = receiver->stats();
      progress.line("pktgen: t=%.0fs fwd/s=%" PRIu64 " authFail=%" PRIu64 " gaps=%" PRIu64
                    " late=%" PRIu64 " p50=%" PRIu64 "us\n",
                    static_cast<double>(now - t0) / 1e9, fwd - last_fwd, st.auth_failed,
                    receiver->gaps(), st.late, receiver->window_latency().percentile(0.5));
      last_fwd = fwd;
    }
  }
  for (uint32_t s = 0; s < streams; ++s) {
    end[s] = sender->next_counter(s);
    receiver->set_window_end(s, end[s]);
  }
  const uint64_t window_ns = now_ns() - t0;
  if (o.server_pid != 0) cpu_ok = cpu_ok && sample_process(o.server_pid, cpu_end);
  if (cpu_end.rss_kb > rss_max_kb) rss_max_kb = cpu_end.rss_kb;

  // Drain what was sent in the window and is still on its way.
  const uint64_t drain_end = now_ns() + kDrainNs;
  while (!receiver->all_reached_ends(end) && now_ns() < drain_end) receiver->poll(10000);
  sender->stop();

  MeetingResult m;
  m.rooms = o.rooms;
  m.peers = o.peers;
  m.audio_pps = o.audio_rate_pps;
  m.video_pps = o.rate_pps;
  FanoutResult& r = m.figures;
  r.mode = o.mode;
  r.suite = o.suite;
  r.producers = static_cast<uint32_t>(streams);
  r.consumers = consumers;
  r.offered_pps = peer_count * (o.audio_rate_pps + o.rate_pps);
  r.duration_s = static_cast<double>(window_ns) / 1e9;
  // Every stream reaches the K-1 other peers of its room.
  for (uint32_t s = 0; s < streams; ++s) {
    r.sent += end[s] - begin[s];
    r.expected += (end[s] - begin[s]) * (o.peers - 1);
  }
  r.forwarded = receiver->window_forwarded();
  if (o.server_pid != 0 && cpu_ok) {
    r.server_cpu_s = cpu_end.cpu_s - cpu_begin.cpu_s;
    r.server_rss_mb = static_cast<double>(rss_max_kb) / 1024.0;
    if (before_ok) r.server_rss_before_mb = static_cast<double>(server_before.rss_kb) / 1024.0;
  } else if (o.server_pid != 0) {
    std::fprintf(stderr, "pktgen: could not read /proc/%d: server CPU and RSS not measured\n",
                 o.server_pid);
  }
  r.latency_p50_us = receiver->window_latency().percentile(0.50);
  r.latency_p99_us = receiver->window_latency().percentile(0.99);
  // The crypto bound of the video packet, as for the fanout (docs/benchmarks.md).
  r.protect_ns = suite ? dp::measure_protect_ns(*suite, o.payload_bytes, kProtectIterations) : 0;
  r.git = o.git;

  teardown.scenario = nullptr;
  const bool clean = scenario.teardown(&error);
  if (!clean) std::fprintf(stderr, "pktgen: teardown: %s\n", error.c_str());
  print_counters(*receiver, *sender, o.quiet, r.forwarded != r.expected, dpdk.get());
  std::printf("%s\n", format_meeting_line(m).c_str());
  std::fflush(stdout);
  return clean ? 0 : 1;
}

}  // namespace

int run_meeting(const Options& options) {
  // nlohmann::json throws on an answer of the wrong shape: a failed run, not a crash.
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pktgen: %s\n", e.what());
    return 1;
  }
}

}  // namespace weir::pktgen
