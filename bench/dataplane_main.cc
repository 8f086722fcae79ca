// weir_dataplane_bench: the `dataplane` scenario of docs/benchmarks.md. One real DPDK
// worker (engine, network stack, forwarding core, SRTP) on a net_ring port that a
// generator thread feeds and drains in-process: forwarded SRTP packets per second of the
// worker's own CPU time, and that rate against the crypto bound measured in the same run.
// Exit status 1 when a forwarded frame fails its check or nothing is forwarded; the
// figures themselves never fail a run.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "dataplane_frames.h"
#include "dataplane_generator.h"
#include "dataplane_measure.h"
#include "dataplane_options.h"
#include "dataplane_rig.h"

namespace weir::bench {
namespace {

struct Snapshot {
  std::chrono::steady_clock::time_point at;
  uint64_t worker_cpu_ns = 0;
  uint64_t sent = 0;
  uint64_t forwarded = 0;
};

Snapshot take(const DataplaneRig& rig, const Generator& gen) {
  Snapshot s;
  s.forwarded = gen.forwarded();
  s.sent = gen.sent();
  s.worker_cpu_ns = thread_cpu_ns(rig.worker_tid()).value_or(0);
  s.at = std::chrono::steady_clock::now();
  return s;
}

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

int run(const DataplaneOptions& o) {
  DataplaneRig rig;
  std::string error;
  if (!rig.open(o.suite, o.consumers, &error)) {
    std::fprintf(stderr, "weir_dataplane_bench: %s\n", error.c_str());
    return 1;
  }
  // The crypto bound, while the worker idles (nothing is fed yet).
  const double protect_ns = measure_protect_cpu_ns(o.suite, kPayloadSize, 20000);
  if (protect_ns <= 0) {
    std::fprintf(stderr, "weir_dataplane_bench: cannot measure protect_ns\n");
    return 1;
  }
  ProducerFrames producer(o.suite, rig.server_mac());
  ForwardedFrames checker(o.suite, o.consumers, rig.server_mac());
  Generator gen(rig.rx_ring(), rig.tx_ring(), rig.frame_pool(), producer, checker, o.verify_every);
  gen.start();
  sleep_s(o.warmup_s);
  const Snapshot a = take(rig, gen);
  sleep_s(o.duration_s);
  const Snapshot b = take(rig, gen);
  gen.stop();

  const dp::EngineStats es = rig.worker().engine_stats();
  const dp::NetStackCounters* ns = rig.worker().net_stack_counters();
  const double window_s = std::chrono::duration<double>(b.at - a.at).count();
  const double cpu_s = static_cast<double>(b.worker_cpu_ns - a.worker_cpu_ns) / 1e9;
  std::fprintf(stderr,
               "dataplane: consumers=%u window=%.3fs worker_cpu=%.3fs (%.0f%% of the window) "
               "verified=%llu failed=%llu rx_found_empty=%llu other_tx=%llu tx_dropped=%llu "
               "consumer_drops=%llu "
               "transport_drops=%llu netstack_drops=%llu producer_packets=%llu\n",
               o.consumers, window_s, cpu_s, window_s > 0 ? 100 * cpu_s / window_s : 0,
               static_cast<unsigned long long>(gen.verified()),
               static_cast<unsigned long long>(gen.verify_failed()),
               static_cast<unsigned long long>(gen.rx_found_empty()),
               static_cast<unsigned long long>(gen.other_tx()),
               static_cast<unsigned long long>(es.tx_dropped),
               static_cast<unsigned long long>(rig.consumer_drops()),
               static_cast<unsigned long long>(rig.transport_drops()),
               static_cast<unsigned long long>(ns ? ns->dropped() : 0),
               static_cast<unsigned long long>(rig.producer_packets()));
  rig.close();

  bool ok = true;
  if (gen.verify_failed() != 0) {
    std::fprintf(stderr, "weir_dataplane_bench: %llu forwarded frames failed the check: %s\n",
                 static_cast<unsigned long long>(gen.verify_failed()), gen.first_failure().c_str());
    ok = false;
  }
  if (gen.build_failed() != 0) {
    std::fprintf(stderr, "weir_dataplane_bench: the producer's frames could not be built\n");
    ok = false;
  }
  if (b.forwarded <= a.forwarded || gen.verified() == 0) {
    std::fprintf(stderr, "weir_dataplane_bench: nothing forwarded (or nothing verified)\n");
    ok = false;
  }
  if (b.worker_cpu_ns == 0) {
    std::fprintf(stderr, "weir_dataplane_bench: cannot read the worker thread's CPU time\n");
    ok = false;
  }
  if (!ok) return 1;

  DataplaneResult r;
  r.suite = dp::srtp_suite_name(o.suite);
  r.consumers = o.consumers;
  r.duration_s = window_s;
  r.sent = b.sent - a.sent;
  r.forwarded = b.forwarded - a.forwarded;
  r.server_cpu_s = cpu_s;
  r.protect_ns = protect_ns;
  r.git = o.git;
  std::printf("%s\n", format_dataplane_line(r).c_str());
  return 0;
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  std::string error;
  bool help = false;
  const auto options = weir::bench::parse_dataplane_options(argc, argv, &error, &help);
  if (!options) {
    std::fputs(weir::bench::kDataplaneUsage, help ? stdout : stderr);
    if (!help) std::fprintf(stderr, "weir_dataplane_bench: %s\n", error.c_str());
    return help ? 0 : 2;
  }
  return weir::bench::run(*options);
}
