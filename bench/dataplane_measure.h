// What the dataplane benchmark measures besides packets: the CPU time of one thread of
// this process (the worker's, found by its task id), the crypto bound in the same units,
// and the JSON result line (docs/benchmarks.md "What every scenario prints").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/srtp_session.h"

namespace weir::bench {

// The task ids of this process's threads, sorted.
std::vector<pid_t> list_threads();
// CPU time a thread of this process has run, in ns (/proc/self/task/TID/schedstat; the
// clock-tick stat fields where schedstat is missing). nullopt when the thread is gone.
std::optional<uint64_t> thread_cpu_ns(pid_t tid);

// CPU ns (this thread's clock, like the worker's figure: a busy host's preemptions count
// in neither) of one protect_rtp of a 12-byte header + payload packet, the template copied
// into the buffer first as the forwarder does: the median of 5 batches. Negative on error.
double measure_protect_cpu_ns(dp::SrtpSuite suite, size_t payload, uint32_t iterations);

struct DataplaneResult {
  std::string suite;
  uint32_t consumers = 0;
  double duration_s = 0;
  uint64_t sent = 0;
  uint64_t forwarded = 0;
  double server_cpu_s = 0;  // the worker thread's CPU over the window
  double protect_ns = 0;
  std::string git = "unknown";
};

// One line, keys in the order of docs/benchmarks.md, no trailing newline.
std::string format_dataplane_line(const DataplaneResult& r);

}  // namespace weir::bench
