#include "proc_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace weir::pktgen {
namespace {

// A real /proc/<pid>/stat line (Linux 6.1), with a command name holding ") (".
constexpr const char* kStat =
    "4242 (we) (ir) S 1 4242 4242 0 -1 4194560 1903 0 0 0 1234 567 0 0 20 0 5 0 "
    "123456 123456789 2345 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

constexpr const char* kStatus =
    "Name:\tweir\nUmask:\t0022\nState:\tS (sleeping)\nVmPeak:\t  231004 kB\n"
    "VmHWM:\t   63000 kB\nVmRSS:\t   61234 kB\nRssAnon:\t   40000 kB\nThreads:\t5\n";

TEST(ProcStats, ParsesUtimePlusStime) {
  uint64_t ticks = 0;
  ASSERT_TRUE(parse_proc_stat_cpu_ticks(kStat, ticks));
  EXPECT_EQ(ticks, 1234u + 567u);
}

TEST(ProcStats, RejectsTruncatedStat) {
  uint64_t ticks = 0;
  EXPECT_FALSE(parse_proc_stat_cpu_ticks("4242 (weir) S 1 4242", ticks));
  EXPECT_FALSE(parse_proc_stat_cpu_ticks("no parenthesis at all", ticks));
}

TEST(ProcStats, ParsesVmRss) {
  uint64_t kb = 0;
  ASSERT_TRUE(parse_proc_status_rss_kb(kStatus, kb));
  EXPECT_EQ(kb, 61234u);
  EXPECT_FALSE(parse_proc_status_rss_kb("Name:\tx\nVmHWM:\t 1 kB\n", kb));
}

TEST(ProcStats, SamplesOwnProcess) {
  ProcessSample s;
  ASSERT_TRUE(sample_process(getpid(), s));
  EXPECT_GT(s.rss_kb, 0u);
  EXPECT_GE(s.cpu_s, 0.0);
}

}  // namespace
}  // namespace weir::pktgen
