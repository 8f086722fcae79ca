// One DPDK Ethernet port shared by the dataplane workers: worker i owns RX/TX queue pair i
// and an mbuf pool of its own, whose mbufs carry a PacketBuffer in their private area (so
// a PacketBuffer and its mbuf are one object and forwarding needs no copy). Opened on the
// control thread before the workers start, closed after they stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/net_stack.h"
#include "dataplane/packet_pool.h"
#include "dataplane/udp_engine.h"
#include "dataplane/udp_port_provider.h"

struct rte_mempool;

namespace weir::dp {

// The mbufs' headroom (RTE_PKTMBUF_HEADROOM, checked where DPDK's headers are seen): room
// for the Ethernet, IP and UDP headers in front of a datagram.
constexpr uint32_t kDpdkHeadroom = 128;

struct DpdkPortConfig {
  uint16_t port_id = 0;
  uint32_t queues = 1;               // one RX/TX queue pair per worker
  uint32_t mbufs_per_queue = 16383;  // per worker; 2^n - 1 suits the mempool's ring best
  uint32_t mempool_cache = 256;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  NetStackConfig stack;  // ip, prefix, gateway; mac and offloads are filled in by open()
  DpdkPortPlan plan;     // which worker serves which UDP port
  // Busy polling: an idle worker polls this many times before it naps idle_sleep_us
  // (0: never naps, a dedicated core spins like DPDK's own examples).
  uint32_t idle_spin_polls = 256;
  uint32_t idle_sleep_us = 100;
};

class DpdkPort {
 public:
  // EAL must be up. Configures queues, pools and offloads and starts the port.
  static std::unique_ptr<DpdkPort> open(const DpdkPortConfig& config, std::string* error);
  ~DpdkPort();
  DpdkPort(const DpdkPort&) = delete;
  DpdkPort& operator=(const DpdkPort&) = delete;

  const DpdkPortConfig& config() const { return config_; }
  // The stack settings with the port's MAC and the offloads it was started with.
  const NetStackConfig& stack_config() const { return config_.stack; }
  PacketBufferSource& buffer_source(uint32_t queue);
  uint16_t port_id() const { return config_.port_id; }
  const std::string& driver_name() const { return driver_; }
  // The port's own counters (rte_eth_stats): what the NIC dropped before weir saw it.
  struct Stats {
    uint64_t ipackets = 0, opackets = 0, imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
  };
  Stats stats() const;
  // Whether the port's link is up now. A virtual port may come up only after start (a
  // net_memif client once its server accepted it): a sender waits for it, since frames
  // sent before are dropped by the PMD.
  bool link_up() const;

 private:
  class MbufSource;
  explicit DpdkPort(const DpdkPortConfig& config) : config_(config) {}
  bool start(std::string* error);

  DpdkPortConfig config_;
  std::string driver_;
  std::vector<std::unique_ptr<PacketBufferSource>> sources_;  // MbufSource, one per queue
  bool started_ = false;
};

// The engine of worker `queue` on the port; pool must be made from port.buffer_source(queue)
// and outlive the engine.
std::unique_ptr<UdpEngine> make_dpdk_engine(DpdkPort& port, uint32_t queue, PacketPool& pool,
                                            std::string* error);

}  // namespace weir::dp
