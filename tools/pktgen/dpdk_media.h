// pktgen's media sockets in --mode dpdk: UDP ports of its own DPDK port, served by the
// dataplane's DPDK engine and network stack (ARP, IPv4, UDP) exactly as a weir worker's
// ports are. One engine per queue pair, all polled by the receiving thread through one
// UdpEngine, which also sends on queue 0 what the sender thread posts to it: a DPDK queue
// belongs to one thread, and over net_memif pktgen may have no more queues than weir has
// workers (one, for the one-core capacity run), so the sender cannot have a queue of its own.
// For the same reason a WebRTC producer's ICE and DTLS arrive on the receiving thread, which
// hands them back to the sender thread through a second ring (copied: they are few, and the
// copy keeps every mbuf with the thread and pool it came from).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/dpdk_port.h"
#include "dataplane/packet_pool.h"
#include "dataplane/udp_engine.h"
#include "dataplane/udp_port_provider.h"

namespace weir::pktgen {

struct DpdkMediaConfig {
  std::string eal_args;
  std::string local_ip;  // the port's IPv4 address
  uint32_t prefix_length = 24;
  uint32_t mbufs_per_queue = 65535;
  uint32_t queues = 1;
  uint16_t sender_port = 10000;      // the producer's UDP port, reserved at open
  uint32_t link_timeout_ms = 10000;  // a memif client comes up once its server accepted it
  // The receiving thread naps idle_sleep_us as soon as a pass over the queues finds
  // nothing (after idle_spin_polls such passes): pktgen shares the host with the weir it
  // measures, and every cycle it spins is one weir's worker may not get. The port's rings
  // hold far more than arrives during a nap, and the next pass takes it in one burst.
  uint32_t idle_spin_polls = 1;
  uint32_t idle_sleep_us = 100;
};

// What pktgen's own port counted: printed with the run's counters.
struct DpdkMediaCounters {
  dp::DpdkPort::Stats port;       // rte_eth_stats: what the PMD received, sent, missed
  uint64_t rx_unbound = 0;        // datagrams to no port of pktgen's
  uint64_t tx_dropped = 0;        // sends that found the TX ring full (every queue)
  uint64_t posted_dropped = 0;    // sender packets that found the hand-over ring full
  uint64_t control_returned = 0;  // ICE and DTLS for the sender, handed back to its thread
  uint64_t control_dropped = 0;   // ... that found the return ring full or were too long
  uint64_t stack_dropped = 0;     // frames the network stacks dropped, all reasons
  uint64_t arp_requests_sent = 0;
};

class DpdkMedia {
 public:
  // EAL, DPDK port 0 with its queues and mbuf pools, the engines; waits for the link.
  static std::unique_ptr<DpdkMedia> open(const DpdkMediaConfig& config, std::string* error);
  ~DpdkMedia();  // engines, pools, the port, then EAL
  DpdkMedia(const DpdkMedia&) = delete;
  DpdkMedia& operator=(const DpdkMedia&) = delete;

  // The receiving thread's engine and the pool of its buffers (mbufs of queue 0).
  dp::UdpEngine& engine();
  dp::PacketPool& pool() { return *pools_.front(); }
  // What add_socket takes for local UDP port `port`.
  dp::UdpBinding binding(uint16_t port) const;
  // The socket index of the sender's port on engine(): weir's RTCP for the producer.
  uint32_t sender_socket() const { return sender_socket_; }

  // For the sender thread, made on the receiving thread before it starts: a pool of mbufs,
  // and an engine whose sends are posted to engine() (its one socket: sender_binding()).
  // Only one sender engine: the hand-over ring has one producer.
  std::unique_ptr<dp::PacketPool> make_sender_pool();
  std::unique_ptr<dp::UdpEngine> make_sender_engine(dp::PacketPool& pool, std::string* error);
  dp::UdpBinding sender_binding() const { return binding(config_.sender_port); }

  // Receiving thread: hands a STUN or DTLS datagram that arrived on the sender's port to
  // the sender thread (its engine's rx_burst). False if the return ring is full or the
  // datagram longer than a slot; counted either way.
  bool return_to_sender(const dp::RxPacket& rx);

  const dp::DpdkPort& port() const { return *port_; }
  double link_wait_s() const { return link_wait_s_; }
  DpdkMediaCounters counters() const;

  class Posted;        // the sender's hand-over ring
  class Returned;      // the ring back to the sender: its ICE and DTLS
  class QueuesEngine;  // engine()

 private:
  explicit DpdkMedia(const DpdkMediaConfig& config);
  bool start(std::string* error);

  DpdkMediaConfig config_;
  bool eal_up_ = false;
  std::unique_ptr<dp::DpdkPort> port_;
  std::vector<std::unique_ptr<dp::PacketPool>> pools_;  // per queue, on the receiving thread
  std::shared_ptr<Posted> posted_;
  std::shared_ptr<Returned> returned_;
  std::unique_ptr<QueuesEngine> engine_;
  uint32_t sender_socket_ = 0;
  bool sender_made_ = false;
  double link_wait_s_ = 0;
};

}  // namespace weir::pktgen
