#include "dataplane/dpdk_eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <sched.h>

#include <atomic>
#include <mutex>
#include <sstream>

namespace weir::dp {
namespace {
std::mutex g_eal_mutex;
std::atomic<bool> g_eal_ready{false};
}  // namespace

std::vector<std::string> split_eal_arguments(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

bool dpdk_eal_init(const std::vector<std::string>& args, std::string* error) {
  std::lock_guard<std::mutex> lock(g_eal_mutex);
  if (g_eal_ready.load()) return true;
  std::vector<std::string> storage;
  storage.reserve(args.size() + 1);
  storage.emplace_back("weir");
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  cpu_set_t before;
  const bool have_before = sched_getaffinity(0, sizeof before, &before) == 0;
  const int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    *error = std::string("rte_eal_init failed: ") + rte_strerror(rte_errno);
    return false;
  }
  if (have_before) sched_setaffinity(0, sizeof before, &before);
  g_eal_ready.store(true);
  return true;
}

bool dpdk_eal_ready() { return g_eal_ready.load(); }

void dpdk_eal_cleanup() {
  std::lock_guard<std::mutex> lock(g_eal_mutex);
  if (!g_eal_ready.load()) return;
  rte_eal_cleanup();
  g_eal_ready.store(false);
}

bool dpdk_register_thread(std::string* error) {
  if (rte_lcore_id() != LCORE_ID_ANY) return true;
  if (rte_thread_register() != 0) {
    *error = std::string("rte_thread_register: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

}  // namespace weir::dp
