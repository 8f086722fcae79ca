#include "run_common.h"

#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>

#include "api_client.h"
#include "base/log.h"
#include "receiver.h"
#include "sender.h"
#include "srtp_keys.h"

namespace weir::pktgen {
namespace {

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

void Progress::line(const char* fmt, ...) {
  if (quiet_) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
}

bool prepare_run(const Options& o, RunBasics& out, int* exit_code) {
  // The dataplane's own info lines (engine chosen, SRTP ready) are noise in a tool's output.
  log::set_level(log::Level::warn);
  raise_fd_limit();
  std::string error;
  if (!dp::srtp_library_init(&error)) {
    std::fprintf(stderr, "pktgen: SRTP init: %s\n", error.c_str());
    *exit_code = 1;
    return false;
  }
  if (o.suite != "none") out.suite = dp::srtp_suite_from_name(o.suite);
  if (o.suite != "none" && !out.suite) {
    std::fprintf(stderr, "pktgen: unknown suite %s\n", o.suite.c_str());
    *exit_code = 2;
    return false;
  }
  if (!parse_http_url(o.api, out.host, out.port, out.tls)) {
    std::fprintf(stderr, "pktgen: --api must look like https://host:port, got %s\n", o.api.c_str());
    *exit_code = 2;
    return false;
  }
  return true;
}

std::string random_room() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "pktgen-";
  for (uint8_t b : random_bytes(4)) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

double self_cpu_seconds() {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  return static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
         static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
}

bool print_counters(const Receiver& receiver, const Sender& sender, bool quiet, bool anomalies) {
  const auto& st = receiver.stats();
  const auto& ss = sender.stats();
  const auto& re = receiver.engine_stats();
  const uint64_t bad_packets = st.auth_failed + st.replayed + st.srtp_other + st.malformed +
                               st.foreign + st.late + st.mid_mismatch + re.rx_no_buffer +
                               ss.no_buffer + ss.protect_failures;
  if (quiet && !anomalies && bad_packets == 0) return false;
  std::fprintf(stderr,
               "pktgen: received=%" PRIu64 " verified=%" PRIu64 " unverified=%" PRIu64
               " authFailed=%" PRIu64 " replayed=%" PRIu64 " srtpOther=%" PRIu64
               " malformed=%" PRIu64 " notRtp=%" PRIu64 " foreign=%" PRIu64 " gaps=%" PRIu64
               " missing=%" PRIu64 " late=%" PRIu64 " | rxNoBuffer=%" PRIu64 " rxTruncated=%" PRIu64
               " | sender noBuffer=%" PRIu64 " protectFail=%" PRIu64 " lateBursts=%" PRIu64
               " txErrors=%" PRIu64 " txDropped=%" PRIu64 " | pktgen cpu %.2f s\n",
               st.packets, st.verified, st.unverified, st.auth_failed, st.replayed, st.srtp_other,
               st.malformed, st.not_rtp, st.foreign, receiver.gaps(), receiver.missing(), st.late,
               re.rx_no_buffer, re.rx_truncated, ss.no_buffer, ss.protect_failures, ss.late_bursts,
               sender.engine_stats().tx_errors, sender.engine_stats().tx_dropped,
               self_cpu_seconds());
  return bad_packets > 0;
}

}  // namespace weir::pktgen
