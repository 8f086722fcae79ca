// pktgen: weir's load generator (kernel sockets or its own DPDK port). See --help and
// docs/performance.md.
#include <cstdio>
#include <string>

#include "fanout_run.h"
#include "meeting_run.h"
#include "options.h"

int main(int argc, char** argv) {
  weir::pktgen::Options options;
  std::string error;
  if (!weir::pktgen::parse_options(argc, argv, options, &error)) {
    std::fprintf(stderr, "pktgen: %s\n\n%s", error.c_str(), weir::pktgen::usage_text());
    return 2;
  }
  if (options.help) {
    std::fputs(weir::pktgen::usage_text(), stdout);
    return 0;
  }
  if (options.scenario == "meeting") return weir::pktgen::run_meeting(options);
  return weir::pktgen::run_fanout(options);
}
