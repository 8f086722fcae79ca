#include "dataplane_measure.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace weir::bench {
namespace {

uint64_t thread_clock_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

std::optional<uint64_t> stat_cpu_ns(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::nullopt;
  char line[1024];
  const bool ok = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  if (!ok) return std::nullopt;
  // The name field (2) may hold spaces: count fields from its closing parenthesis.
  const char* p = std::strrchr(line, ')');
  if (p == nullptr) return std::nullopt;
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2)
    return std::nullopt;
  const auto ticks = static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  return (utime + stime) * (1'000'000'000ull / ticks);
}

}  // namespace

std::vector<pid_t> list_threads() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long tid = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') tids.push_back(static_cast<pid_t>(tid));
  }
  closedir(dir);
  std::sort(tids.begin(), tids.end());
  return tids;
}

std::optional<uint64_t> thread_cpu_ns(pid_t tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/schedstat";
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    unsigned long long run_ns = 0;
    const bool ok = std::fscanf(f, "%llu", &run_ns) == 1;
    std::fclose(f);
    if (ok) return run_ns;
  }
  return stat_cpu_ns(tid);
}

double measure_protect_cpu_ns(dp::SrtpSuite suite, size_t payload, uint32_t iterations) {
  constexpr size_t kHeader = 12;
  constexpr int kBatches = 5;
  std::vector<uint8_t> master(dp::srtp_master_length(suite));
  for (size_t i = 0; i < master.size(); ++i) master[i] = static_cast<uint8_t>(0x10 + i);
  auto session =
      dp::SrtpSession::create(suite, dp::SrtpSession::Direction::outbound, master, nullptr);
  if (!session || iterations == 0) return -1;
  std::vector<uint8_t> plain(kHeader + payload, 0xab);
  plain[0] = 0x80;
  plain[1] = 96;
  plain[8] = 0x11, plain[9] = 0x22, plain[10] = 0x33, plain[11] = 0x44;
  std::vector<uint8_t> buf(plain.size() + dp::SrtpSession::kMaxTrailer);
  uint16_t seq = 0;
  std::array<double, kBatches> per_packet{};
  for (double& result : per_packet) {
    const uint64_t start = thread_clock_ns();
    for (uint32_t i = 0; i < iterations; ++i) {
      std::memcpy(buf.data(), plain.data(), plain.size());
      buf[2] = static_cast<uint8_t>(seq >> 8);
      buf[3] = static_cast<uint8_t>(seq);
      ++seq;
      size_t len = plain.size();
      if (session->protect_rtp(buf.data(), len, buf.size()) != dp::SrtpStatus::ok) return -1;
    }
    result = static_cast<double>(thread_clock_ns() - start) / iterations;
  }
  std::sort(per_packet.begin(), per_packet.end());
  return per_packet[kBatches / 2];
}

std::string format_dataplane_line(const DataplaneResult& r) {
  const double pps = r.server_cpu_s > 0 ? static_cast<double>(r.forwarded) / r.server_cpu_s : 0;
  nlohmann::ordered_json j;
  j["scenario"] = "dataplane";
  j["mode"] = "dpdk";
  j["port"] = "net_ring";
  j["suite"] = r.suite;
  j["workers"] = 1;
  j["producers"] = 1;
  j["consumers"] = r.consumers;
  j["duration_s"] = round_to(r.duration_s, 3);
  j["sent"] = r.sent;
  j["forwarded"] = r.forwarded;
  j["forwarded_pps"] = static_cast<uint64_t>(std::llround(pps));
  j["server_cpu_s"] = round_to(r.server_cpu_s, 3);
  j["cpu_ns_per_fwd"] = r.forwarded == 0
                            ? nlohmann::ordered_json(nullptr)
                            : nlohmann::ordered_json(round_to(
                                  r.server_cpu_s * 1e9 / static_cast<double>(r.forwarded), 1));
  j["protect_ns"] = round_to(r.protect_ns, 1);
  j["ratio_to_crypto_bound"] = round_to(pps * r.protect_ns / 1e9, 3);
  j["git"] = r.git;
  return j.dump();
}

}  // namespace weir::bench
