// CPU time and resident memory of another process, from /proc/<pid>/stat and
// /proc/<pid>/status. The parsers are pure so that tests can feed them real file text.
#pragma once

#include <cstdint>
#include <string_view>

namespace weir::pktgen {

// utime + stime (fields 14 and 15) in clock ticks. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from the last ')'.
bool parse_proc_stat_cpu_ticks(std::string_view stat, uint64_t& ticks);
// The VmRSS line, in kB.
bool parse_proc_status_rss_kb(std::string_view status, uint64_t& kb);

struct ProcessSample {
  double cpu_s = 0;  // user + system CPU seconds since the process started
  uint64_t rss_kb = 0;
};
bool sample_process(int pid, ProcessSample& out);

}  // namespace weir::pktgen
