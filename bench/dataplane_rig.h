// The system under test of the dataplane benchmark: EAL without hugepages or PCI, a
// net_ring port whose two rings the generator holds, a DpdkPort on it and one real
// dp::Worker polling it, with 1 SRTP producer transport and N SRTP consumer transports
// set up through the worker's commands, as the control thread would.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/dpdk_port.h"
#include "dataplane/srtp_session.h"
#include "dataplane/worker.h"

struct rte_mempool;
struct rte_ring;

namespace weir::bench {

class DataplaneRig {
 public:
  DataplaneRig() = default;
  ~DataplaneRig();
  DataplaneRig(const DataplaneRig&) = delete;
  DataplaneRig& operator=(const DataplaneRig&) = delete;

  // Everything up to a worker that forwards the producer to every consumer.
  bool open(dp::SrtpSuite suite, uint32_t consumers, std::string* error);
  // Stops the worker and frees the port, rings and pools (what is left in the rings too).
  void close();

  rte_ring* rx_ring() const { return rx_; }
  rte_ring* tx_ring() const { return tx_; }
  rte_mempool* frame_pool() const { return frames_; }
  const wire::MacAddress& server_mac() const { return port_->stack_config().mac; }
  const dp::Worker& worker() const { return *worker_; }
  pid_t worker_tid() const { return worker_tid_; }
  // What the worker counted for the consumers: packets sent and drops of every reason.
  uint64_t consumer_packets() const;
  uint64_t consumer_drops() const;
  uint64_t producer_packets() const { return producer_counters_.packets.get(); }
  uint64_t transport_drops() const;

 private:
  void add_transport(dp::TransportId id, uint16_t local_port, uint16_t peer_port,
                     dp::SrtpSuite suite, uint32_t key_seed);
  bool inject_arp_reply(std::string* error);

  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  rte_mempool* frames_ = nullptr;
  std::unique_ptr<dp::DpdkPort> port_;
  std::unique_ptr<dp::Worker> worker_;
  pid_t worker_tid_ = 0;
  std::vector<std::unique_ptr<dp::TransportCounters>> transport_counters_;
  std::vector<std::unique_ptr<dp::ConsumerCounters>> consumer_counters_;
  dp::ProducerCounters producer_counters_;
  uint64_t last_command_ = 0;
};

}  // namespace weir::bench
