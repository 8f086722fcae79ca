#include "dataplane/udp_port_provider.h"

#include <unistd.h>

#include "dataplane/udp_engine.h"

namespace weir::dp {
namespace {

class KernelUdpPorts final : public UdpPortProvider {
 public:
  bool bind(uint32_t, const std::string& ip, uint16_t min_port, uint16_t max_port, UdpBinding* out,
            std::string* error) override {
    uint16_t port = 0;
    const int fd = open_udp_socket_in_range(ip, min_port, max_port, &port, error);
    if (fd < 0) return false;
    out->fd = fd;
    out->local = *SocketAddress::parse(ip, port);
    return true;
  }
  void release(const UdpBinding& binding) override {
    if (binding.fd >= 0) ::close(binding.fd);
  }
};

}  // namespace

UdpPortProvider& kernel_udp_ports() {
  static KernelUdpPorts ports;
  return ports;
}

DpdkUdpPorts::DpdkUdpPorts(std::string ip, const DpdkPortPlan& plan)
    : ip_(std::move(ip)), plan_(plan), used_(65536, false), next_(plan.workers, 0) {}

bool DpdkUdpPorts::bind(uint32_t worker, const std::string& ip, uint16_t min_port,
                        uint16_t max_port, UdpBinding* out, std::string* error) {
  if (ip != ip_) {
    *error = "in DPDK mode media can only use the DPDK port's address " + ip_ + ", not " + ip;
    return false;
  }
  if (min_port == 0 || min_port > max_port) {
    *error = "bad port range";
    return false;
  }
  if (worker >= plan_.workers) {
    *error = "no such worker";
    return false;
  }
  const uint32_t range = static_cast<uint32_t>(max_port) - min_port + 1;
  const uint32_t start = next_[worker] % range;
  for (uint32_t i = 0; i < range; ++i) {
    const uint32_t offset = (start + i) % range;
    const auto port = static_cast<uint16_t>(min_port + offset);
    if (used_[port] || plan_.owner(port) != worker) continue;
    used_[port] = true;
    ++in_use_;
    next_[worker] = offset + 1;
    out->fd = -1;
    out->local = *SocketAddress::parse(ip_, port);
    return true;
  }
  *error = "no free UDP port in " + std::to_string(min_port) + "-" + std::to_string(max_port) +
           " on " + ip_ + " for worker " + std::to_string(worker);
  return false;
}

void DpdkUdpPorts::release(const UdpBinding& binding) {
  const uint16_t port = binding.local.port();
  if (port == 0 || !used_[port]) return;
  used_[port] = false;
  --in_use_;
}

}  // namespace weir::dp
