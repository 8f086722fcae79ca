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

bool open_dpdk_media(const Options& o, Progress& progress, std::unique_ptr<DpdkMedia>* out) {
  if (o.mode != "dpdk") return true;
  DpdkMediaConfig c;
  c.eal_args = o.dpdk_eal_args;
  c.local_ip = o.local_ip;
  c.prefix_length = o.dpdk_prefix_length;
  c.mbufs_per_queue = o.dpdk_mbufs;
  c.queues = o.dpdk_queues;
  c.sender_port = static_cast<uint16_t>(kFirstDpdkPort);
  std::string error;
  *out = DpdkMedia::open(c, &error);
  if (!*out) {
    std::fprintf(stderr, "pktgen: dpdk: %s\n", error.c_str());
    return false;
  }
  const dp::DpdkPort& port = (*out)->port();
  progress.line(
      "pktgen: dpdk port %u (%s): %s on %s/%u, %u queue pair%s, %u mbufs each, link up "
      "after %.2f s\n",
      port.port_id(), port.driver_name().c_str(), port.stack_config().mac.to_string().c_str(),
      o.local_ip.c_str(), o.dpdk_prefix_length, o.dpdk_queues, o.dpdk_queues == 1 ? "" : "s",
      o.dpdk_mbufs, (*out)->link_wait_s());
  return true;
}

std::unique_ptr<Receiver> make_receiver(const Options& o, DpdkMedia* media, uint32_t sockets,
                                        std::string* error) {
  if (media != nullptr) {
    return Receiver::create(*media, sockets, static_cast<uint16_t>(kFirstDpdkPort + 1), error);
  }
  return Receiver::create(o.local_ip, sockets, error);
}

bool print_counters(const Receiver& receiver, const Sender& sender, bool quiet, bool anomalies,
                    const DpdkMedia* media) {
  const auto& st = receiver.stats();
  const auto& ss = sender.stats();
  const auto& re = receiver.engine_stats();
  DpdkMediaCounters dc;
  if (media != nullptr) dc = media->counters();
  const uint64_t bad_packets = st.auth_failed + st.replayed + st.srtp_other + st.malformed +
                               st.foreign + st.late + st.mid_mismatch + re.rx_no_buffer +
                               ss.no_buffer + ss.protect_failures + dc.port.imissed +
                               dc.port.rx_nombuf + dc.tx_dropped + dc.posted_dropped;
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
  if (media != nullptr) {
    std::fprintf(stderr,
                 "pktgen: dpdk port rx=%" PRIu64 " tx=%" PRIu64 " missed=%" PRIu64
                 " noMbuf=%" PRIu64 " rxErrors=%" PRIu64 " txErrors=%" PRIu64
                 " | engine txDropped=%" PRIu64 " postedDropped=%" PRIu64 " unbound=%" PRIu64
                 " stackDropped=%" PRIu64 " arpRequests=%" PRIu64 " toSender=%" PRIu64
                 " controlReturned=%" PRIu64 " controlDropped=%" PRIu64 "\n",
                 dc.port.ipackets, dc.port.opackets, dc.port.imissed, dc.port.rx_nombuf,
                 dc.port.ierrors, dc.port.oerrors, dc.tx_dropped, dc.posted_dropped, dc.rx_unbound,
                 dc.stack_dropped, dc.arp_requests_sent, st.to_sender, dc.control_returned,
                 dc.control_dropped);
  }
  return bad_packets > 0;
}

}  // namespace weir::pktgen
