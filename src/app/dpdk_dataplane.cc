#include "app/dpdk_dataplane.h"

#include <arpa/inet.h>

#include "dataplane/dpdk_eal.h"

namespace weir::app {
namespace {
uint32_t parse_v4(const std::string& ip) {
  in_addr a{};
  inet_pton(AF_INET, ip.c_str(), &a);  // validate_config checked it
  return ntohl(a.s_addr);
}
}  // namespace

DpdkDataplane::~DpdkDataplane() {
  if (!port) return;
  port.reset();
  dp::dpdk_eal_cleanup();
}

bool open_dpdk_dataplane(const Config& config, DpdkDataplane* out, std::string* error) {
  if (!dp::dpdk_eal_init(dp::split_eal_arguments(config.dpdk_eal_args), error)) return false;
  dp::DpdkPortConfig pc;
  pc.port_id = config.dpdk_port;
  pc.queues = config.workers;
  pc.mbufs_per_queue = config.dpdk_mbufs;
  pc.idle_sleep_us = config.dpdk_idle_sleep_us;
  pc.stack.ip = parse_v4(config.listen_ip);
  pc.stack.prefix_length = config.dpdk_prefix_length;
  pc.stack.gateway = config.dpdk_gateway.empty() ? 0 : parse_v4(config.dpdk_gateway);
  pc.plan.min_port = config.rtc_min_port;
  pc.plan.max_port = config.rtc_max_port;
  pc.plan.workers = config.workers;
  pc.plan.shared_port = config.webrtc_server_port;
  out->port = dp::DpdkPort::open(pc, error);
  if (!out->port) {
    dp::dpdk_eal_cleanup();
    return false;
  }
  out->udp_ports = std::make_unique<dp::DpdkUdpPorts>(config.listen_ip, pc.plan);
  return true;
}

}  // namespace weir::app
