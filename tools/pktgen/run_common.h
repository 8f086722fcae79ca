// What the fanout and meeting runs share: progress lines, the process set-up, and the
// counters printed at the end.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dataplane/srtp_session.h"
#include "dpdk_media.h"
#include "options.h"

namespace weir::pktgen {

class Receiver;
class Sender;

class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet) {}
  void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

 private:
  bool quiet_;
};

// What every run needs before it builds anything: quiet dataplane logs, the descriptor
// limit raised (one socket per consumer transport), libsrtp, the suite and weir's API
// address. False (with the message printed) and *exit_code set on failure.
struct RunBasics {
  std::optional<dp::SrtpSuite> suite;  // nullopt: plain RTP
  std::string host, port;
  bool tls = true;
};
bool prepare_run(const Options& o, RunBasics& out, int* exit_code);

// --mode dpdk: EAL and pktgen's DPDK port, link up (*out stays empty in uring mode). False
// (with the message printed) on failure.
bool open_dpdk_media(const Options& o, Progress& progress, std::unique_ptr<DpdkMedia>* out);
// The media sockets: in DPDK mode local ports of media, else kernel sockets on o.local_ip.
std::unique_ptr<Receiver> make_receiver(const Options& o, DpdkMedia* media, uint32_t sockets,
                                        std::string* error);

// "pktgen-" + 8 random hex digits.
std::string random_room();
// pktgen's own user + system CPU so far.
double self_cpu_seconds();

// The receiver's and sender's counters on stderr: always unless quiet, and when quiet
// whenever something went wrong (anomalies, or any bad packet). Returns whether there was
// a bad packet. In DPDK mode (media set) the port's own counters follow; packets its PMD
// missed or found no mbuf for, and sends dropped on a full ring, are bad packets too.
bool print_counters(const Receiver& receiver, const Sender& sender, bool quiet, bool anomalies,
                    const DpdkMedia* media = nullptr);

}  // namespace weir::pktgen
