#include "proc_stats.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace weir::pktgen {
namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool parse_u64(std::string_view text, uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

bool parse_proc_stat_cpu_ticks(std::string_view stat, uint64_t& ticks) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = stat.substr(close + 1);
  // After ')' come field 3 (state) onwards; utime and stime are fields 14 and 15.
  int field = 2;
  uint64_t utime = 0, stime = 0;
  bool have_u = false, have_s = false;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i >= rest.size()) break;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    ++field;
    const std::string_view token = rest.substr(i, j - i);
    if (field == 14) have_u = parse_u64(token, utime);
    if (field == 15) {
      have_s = parse_u64(token, stime);
      break;
    }
    i = j + 1;
  }
  if (!have_u || !have_s) return false;
  ticks = utime + stime;
  return true;
}

bool parse_proc_status_rss_kb(std::string_view status, uint64_t& kb) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t end = status.find('\n', pos);
    if (end == std::string_view::npos) end = status.size();
    std::string_view line = status.substr(pos, end - pos);
    if (line.substr(0, 6) == "VmRSS:") {
      line.remove_prefix(6);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      const size_t sp = line.find(' ');
      if (sp == std::string_view::npos || line.substr(sp + 1) != "kB") return false;
      return parse_u64(line.substr(0, sp), kb);
    }
    pos = end + 1;
  }
  return false;
}

bool sample_process(int pid, ProcessSample& out) {
  const std::string base = "/proc/" + std::to_string(pid);
  std::string stat, status;
  if (!read_file(base + "/stat", stat) || !read_file(base + "/status", status)) return false;
  uint64_t ticks = 0;
  if (!parse_proc_stat_cpu_ticks(stat, ticks) || !parse_proc_status_rss_kb(status, out.rss_kb)) {
    return false;
  }
  out.cpu_s = static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace weir::pktgen
