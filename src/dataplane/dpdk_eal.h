// DPDK's environment abstraction layer, once per process: weir passes the operator's EAL
// arguments through unchanged (e.g. "--no-huge --no-pci -m 1024 --vdev=net_af_packet0,
// iface=eth1" or a PCI allow list with -a).
#pragma once

#include <string>
#include <vector>

namespace weir::dp {

// Splits an EAL argument string at white space (no quoting: EAL arguments have none).
std::vector<std::string> split_eal_arguments(const std::string& text);

// rte_eal_init with argv = {"weir", args...}. Idempotent; false with *error when EAL
// refuses. EAL pins the calling thread to its main lcore: the thread's CPU set is restored
// afterwards, so that the control thread and the threads it starts run where they did.
bool dpdk_eal_init(const std::vector<std::string>& args, std::string* error);
bool dpdk_eal_ready();
// Releases EAL's memory at exit, after every port is closed.
void dpdk_eal_cleanup();

// Makes the calling (worker) thread an EAL thread, so that mempool caches work for it.
// Idempotent per thread.
bool dpdk_register_thread(std::string* error);

}  // namespace weir::dp
