#include "fanout_run.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <optional>

#include "api_client.h"
#include "base/clock.h"
#include "dataplane/srtp_session.h"
#include "fanout_scenario.h"
#include "proc_stats.h"
#include "receiver.h"
#include "result_line.h"
#include "run_common.h"
#include "run_report.h"
#include "sender.h"
#include "srtp_keys.h"
#include "webrtc_run.h"

namespace weir::pktgen {
namespace {

constexpr uint64_t kSecond = 1000000000ull;
// After the window, packets sent in it may still be in flight; wait this long at most.
constexpr uint64_t kDrainNs = kSecond;
constexpr uint32_t kProtectIterations = 4000;  // x5 batches
constexpr uint64_t kSettleNs = 100000000ull;

// Everything the run needs to undo when it stops early.
struct Teardown {
  FanoutScenario* scenario = nullptr;
  ~Teardown() {
    if (scenario == nullptr) return;
    std::string error;
    if (!scenario->teardown(&error)) std::fprintf(stderr, "pktgen: teardown: %s\n", error.c_str());
  }
};

int run(const Options& o) {
  Progress progress(o.quiet);
  RunBasics basics;
  int exit_code = 0;
  if (!prepare_run(o, basics, &exit_code)) return exit_code;
  const std::optional<dp::SrtpSuite>& suite = basics.suite;
  std::string error;

  std::unique_ptr<WebRtcRun> webrtc;
  if (o.transport == "webrtc") {
    webrtc = WebRtcRun::create(o, &error);
    if (!webrtc) {
      std::fprintf(stderr, "pktgen: %s\n", error.c_str());
      return 1;
    }
  }
  const uint32_t measured = webrtc ? webrtc->measured_consumers() : o.consumers;

  // Before the receiver and sender: its port and pools outlive them.
  std::unique_ptr<DpdkMedia> dpdk;
  if (!open_dpdk_media(o, progress, &dpdk)) return 1;
  auto receiver = make_receiver(o, dpdk.get(), o.consumers, &error);
  if (!receiver) {
    std::fprintf(stderr, "pktgen: receiving sockets: %s\n", error.c_str());
    return 1;
  }

  // The server's memory before this run adds anything to it.
  ProcessSample server_before;
  const bool before_ok = o.server_pid != 0 && sample_process(o.server_pid, server_before);
  ApiClient api(basics.host, basics.port, basics.tls);
  FanoutScenario scenario(api);
  Teardown teardown;
  teardown.scenario = &scenario;
  FanoutSpec spec;
  spec.room = o.room.empty() ? random_room() : o.room;
  spec.suite = o.suite;
  if (suite) spec.sender_key = random_bytes(dp::srtp_master_length(*suite));
  spec.producer_ssrc = random_u32() | 1u;  // never 0
  spec.producer_payload_type = 101;
  spec.local_ip = o.local_ip;
  spec.consumer_ports = receiver->ports();
  if (webrtc) webrtc->fill_spec(spec);
  FanoutPlan plan;
  const uint64_t build_start = now_ns();
  uint64_t last_report = build_start;
  if (!scenario.build(spec, plan, &error, [&](size_t done) {
        const uint64_t t = now_ns();
        if (t - last_report >= kSecond) {
          last_report = t;
          progress.line("pktgen: building: %zu/%u consumers\n", done, o.consumers);
        }
      })) {
    std::fprintf(stderr, "pktgen: building the scenario failed: %s\n", error.c_str());
    return 1;
  }
  progress.line("pktgen: room %s: producer %s, %zu consumers built in %.1f s\n", spec.room.c_str(),
                plan.producer_id.c_str(), plan.consumers.size(),
                static_cast<double>(now_ns() - build_start) / 1e9);
  if (webrtc ? !webrtc->attach(*receiver, plan, &error)
             : !receiver->attach(plan.consumers, suite, o.verify_sample, &error)) {
    std::fprintf(stderr, "pktgen: %s\n", error.c_str());
    return 1;
  }

  SenderConfig sc;
  sc.local_ip = o.local_ip;
  sc.dpdk = dpdk.get();
  const auto remote = dp::SocketAddress::parse(plan.producer_ip, plan.producer_port);
  if (!remote) {
    std::fprintf(stderr, "pktgen: producer transport address %s:%u is not an IP address\n",
                 plan.producer_ip.c_str(), plan.producer_port);
    return 1;
  }
  sc.remote = *remote;
  sc.suite = suite;
  sc.key = spec.sender_key;
  sc.stream.ssrc = spec.producer_ssrc;
  sc.stream.payload_type = spec.producer_payload_type;
  sc.stream.rate_pps = o.rate_pps;
  sc.stream.payload_size = o.payload_bytes;
  sc.stream.first_sequence = static_cast<uint16_t>(random_u32());
  sc.stream.first_timestamp = random_u32();
  if (webrtc) sc.webrtc = webrtc->producer_endpoint(plan);
  auto sender = Sender::create(sc, &error);
  if (!sender || !sender->start(&error)) {
    std::fprintf(stderr, "pktgen: sender: %s\n", error.c_str());
    return 1;
  }
  // One receive step: in WebRTC mode never longer than the endpoints' next timer, and
  // followed by their timers and receiver reports.
  auto pump = [&](uint32_t max_us) {
    receiver->poll(webrtc ? webrtc->poll_timeout_us(max_us) : max_us);
    if (webrtc) webrtc->service(*receiver);
  };
  if (webrtc) {
    const uint64_t setup_start = now_ns();
    if (!webrtc->connect(*receiver, *sender, !o.quiet, &error)) {
      std::fprintf(stderr, "pktgen: %s\n", error.c_str());
      return 1;
    }
    progress.line("pktgen: webrtc: ICE and DTLS-SRTP up on %u transports in %.2f s\n",
                  o.consumers + 1 - o.bad_fingerprint_consumers,
                  static_cast<double>(now_ns() - setup_start) / 1e9);
    // weir installs a transport's SRTP keys on its worker a moment after its own handshake
    // ends (and as DTLS client it ends after pktgen): a short settle before the first key
    // frame saves a consumer from waiting 2 s for the next one.
    const uint64_t settle_end = now_ns() + kSettleNs;
    while (now_ns() < settle_end) pump(10000);
    sender->release_stream();
  }
  if (!o.report_path.empty()) {
    auto report = report_skeleton("running", spec, plan);
    if (webrtc) webrtc->annotate_report(report, *receiver, *sender);
    if (!write_report_file(o.report_path, report, &error)) {
      std::fprintf(stderr, "pktgen: %s\n", error.c_str());
      return 1;
    }
  }

  // Warm-up: until every consumer has a packet, or the warm-up time is over.
  const uint64_t start = now_ns();
  const uint64_t warmup_end = start + static_cast<uint64_t>(o.warmup_s * 1e9);
  uint64_t next_line = start + kSecond;
  while (receiver->consumers_seen() < measured && now_ns() < warmup_end) pump(10000);
  if (receiver->consumers_seen() < measured) {
    std::fprintf(stderr, "pktgen: warm-up over with %u of %u consumers receiving\n",
                 receiver->consumers_seen(), measured);
  }

  // The window, defined by pktgen's packet counter.
  ProcessSample cpu_begin, cpu_end, sample;
  bool cpu_ok = o.server_pid == 0 || sample_process(o.server_pid, cpu_begin);
  uint64_t rss_max_kb = cpu_begin.rss_kb;
  const uint64_t window_begin = sender->next_counter();
  receiver->set_window_begin(window_begin);
  const uint64_t t0 = now_ns();
  const uint64_t t1 = t0 + static_cast<uint64_t>(o.duration_s * 1e9);
  next_line = t0 + kSecond;
  uint64_t last_fwd = 0;
  for (uint64_t now = t0; now < t1; now = now_ns()) {
    pump(static_cast<uint32_t>(std::min<uint64_t>((t1 - now) / 1000 + 1, 10000)));
    if (webrtc) webrtc->window_events(static_cast<double>(now - t0) / 1e9, api, plan, *sender);
    if (now >= next_line) {
      next_line += kSecond;
      if (o.server_pid != 0 && sample_process(o.server_pid, sample) && sample.rss_kb > rss_max_kb) {
        rss_max_kb = sample.rss_kb;
      }
      const uint64_t fwd = receiver->window_forwarded();
      const auto& st = receiver->stats();
      progress.line("pktgen: t=%.0fs sent=%" PRIu64 " fwd/s=%" PRIu64 " authFail=%" PRIu64
                    " gaps=%" PRIu64 " late=%" PRIu64 " p50=%" PRIu64 "us p99=%" PRIu64 "us\n",
                    static_cast<double>(now - t0) / 1e9, sender->next_counter() - window_begin,
                    fwd - last_fwd, st.auth_failed, receiver->gaps(), st.late,
                    receiver->window_latency().percentile(0.5),
                    receiver->window_latency().percentile(0.99));
      last_fwd = fwd;
    }
  }
  const uint64_t window_end = sender->next_counter();
  const uint64_t window_ns = now_ns() - t0;
  receiver->set_window_end(window_end);
  if (o.server_pid != 0) cpu_ok = cpu_ok && sample_process(o.server_pid, cpu_end);
  if (cpu_end.rss_kb > rss_max_kb) rss_max_kb = cpu_end.rss_kb;

  // Drain what was sent in the window and is still on its way.
  const uint64_t drain_end = now_ns() + kDrainNs;
  while (window_end > 0 && !receiver->all_reached(window_end - 1) && now_ns() < drain_end) {
    pump(10000);
  }
  sender->stop();

  FanoutResult r;
  r.mode = o.mode;
  r.transport = o.transport;
  r.suite = o.suite;
  r.consumers = measured;
  r.impaired_consumers = o.consumers - measured;
  r.offered_pps = o.rate_pps;
  r.duration_s = static_cast<double>(window_ns) / 1e9;
  r.sent = window_end - window_begin;
  r.expected = r.sent * measured;
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
  r.protect_ns = suite ? dp::measure_protect_ns(*suite, o.payload_bytes, kProtectIterations) : 0;
  r.git = o.git;

  bool webrtc_ok = true;
  if (webrtc && !webrtc->check_restarts(*sender, &error)) {
    std::fprintf(stderr, "pktgen: %s\n", error.c_str());
    webrtc_ok = false;
  }
  if (!o.report_path.empty()) {
    // weir's own view of every transport, while they still exist.
    auto report = report_skeleton("done", spec, plan);
    if (webrtc) webrtc->annotate_report(report, *receiver, *sender);
    std::vector<std::string> ids{plan.producer_transport_id};
    for (const auto& c : plan.consumers) ids.push_back(c.transport_id);
    report["weirStats"] = fetch_transport_stats(api, spec.room, ids);
    if (!write_report_file(o.report_path, report, &error)) {
      std::fprintf(stderr, "pktgen: %s\n", error.c_str());
      webrtc_ok = false;
    }
  }

  teardown.scenario = nullptr;
  const bool clean = scenario.teardown(&error);
  if (!clean) std::fprintf(stderr, "pktgen: teardown: %s\n", error.c_str());

  // With --quiet the counters are printed only when something went wrong; pktgen's own
  // CPU among them tells a slow receiver from a slow server when latency grows.
  const bool lossy = r.forwarded != r.expected;
  const bool anomalies = print_counters(*receiver, *sender, o.quiet, lossy, dpdk.get()) || lossy;
  if (webrtc && (!o.quiet || anomalies || !webrtc_ok)) {
    std::fprintf(stderr, "%s\n", webrtc->summary(*receiver, *sender).c_str());
  }
  std::printf("%s\n", format_fanout_line(r).c_str());
  std::fflush(stdout);
  return clean && webrtc_ok ? 0 : 1;
}

}  // namespace

int run_fanout(const Options& options) {
  // The control path uses nlohmann::json, which throws on an answer of the wrong shape:
  // that is a failed run, reported as such, not a crash.
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pktgen: %s\n", e.what());
    return 1;
  }
}

}  // namespace weir::pktgen
