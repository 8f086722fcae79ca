#include "dataplane/dpdk_port.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace weir::dp {

static_assert(kDpdkHeadroom == RTE_PKTMBUF_HEADROOM, "the mbuf headroom weir assumes");

// A worker's mbuf pool as the PacketPool sees it: buffers in batches, each one the
// PacketBuffer in its mbuf's private area.
class DpdkPort::MbufSource final : public PacketBufferSource {
 public:
  explicit MbufSource(rte_mempool* pool) : pool_(pool) {}
  ~MbufSource() override { rte_mempool_free(pool_); }

  uint32_t get(PacketBuffer** out, uint32_t n) override {
    rte_mbuf* mbufs[PacketPool::kSourceBatch];
    n = std::min<uint32_t>(n, PacketPool::kSourceBatch);
    // All or nothing: on a nearly empty pool ask for fewer before giving up.
    while (n > 0 && rte_pktmbuf_alloc_bulk(pool_, mbufs, n) != 0) n /= 2;
    for (uint32_t i = 0; i < n; ++i) {
      rte_mbuf* m = mbufs[i];
      auto* b = static_cast<PacketBuffer*>(rte_mbuf_to_priv(m));
      b->mbuf = m;
      b->base = static_cast<uint8_t*>(m->buf_addr);
      b->capacity = m->buf_len;
      b->refcnt = 0;
      out[i] = b;
    }
    return n;
  }
  void put(PacketBuffer** bufs, uint32_t n) override {
    rte_mbuf* mbufs[PacketPool::kSourceBatch];
    while (n > 0) {
      const uint32_t k = std::min<uint32_t>(n, PacketPool::kSourceBatch);
      for (uint32_t i = 0; i < k; ++i) mbufs[i] = static_cast<rte_mbuf*>(bufs[i]->mbuf);
      rte_pktmbuf_free_bulk(mbufs, k);
      bufs += k;
      n -= k;
    }
  }
  uint32_t available() const override { return rte_mempool_avail_count(pool_); }
  rte_mempool* pool() const { return pool_; }

 private:
  rte_mempool* pool_;
};

std::unique_ptr<DpdkPort> DpdkPort::open(const DpdkPortConfig& config, std::string* error) {
  std::unique_ptr<DpdkPort> port(new DpdkPort(config));
  if (!port->start(error)) return nullptr;
  return port;
}

bool DpdkPort::start(std::string* error) {
  const uint16_t id = config_.port_id;
  if (!rte_eth_dev_is_valid_port(id)) {
    *error = "DPDK port " + std::to_string(id) + " does not exist (" +
             std::to_string(rte_eth_dev_count_avail()) +
             " ports: check the EAL arguments' --vdev or -a)";
    return false;
  }
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(id, &info);
  if (rc != 0) {
    *error = "rte_eth_dev_info_get: " + std::string(rte_strerror(-rc));
    return false;
  }
  driver_ = info.driver_name ? info.driver_name : "?";
  if (config_.queues == 0 || config_.queues > info.max_rx_queues ||
      config_.queues > info.max_tx_queues) {
    *error = "DPDK port " + std::to_string(id) + " (" + driver_ + ") has " +
             std::to_string(info.max_rx_queues) + " RX and " + std::to_string(info.max_tx_queues) +
             " TX queues; " + std::to_string(config_.queues) + " workers need as many";
    return false;
  }

  rte_eth_conf conf{};
  // Offloads the port has are used; the stack does in software what it lacks.
  const uint64_t tx_want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  conf.txmode.offloads = info.tx_offload_capa & tx_want;
  conf.rxmode.offloads = info.rx_offload_capa & rx_want;
  // Every mbuf comes from the pool of the queue that sends it and has one reference when
  // sent: the PMD may return them to the pool without looking.
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (config_.queues > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_UDP;
  }
  config_.stack.tx_ipv4_checksum_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
  config_.stack.tx_udp_checksum_offload = conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

  const auto queues = static_cast<uint16_t>(config_.queues);
  rc = rte_eth_dev_configure(id, queues, queues, &conf);
  if (rc != 0) {
    *error = "rte_eth_dev_configure: " + std::string(rte_strerror(-rc));
    return false;
  }
  uint16_t rxd = config_.rx_descriptors, txd = config_.tx_descriptors;
  rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd);
  const int socket = rte_eth_dev_socket_id(id);
  const uint16_t priv = static_cast<uint16_t>(RTE_ALIGN(sizeof(PacketBuffer), RTE_MBUF_PRIV_ALIGN));
  for (uint16_t q = 0; q < queues; ++q) {
    const std::string name = "weir_p" + std::to_string(id) + "_q" + std::to_string(q);
    rte_mempool* mp =
        rte_pktmbuf_pool_create(name.c_str(), config_.mbufs_per_queue, config_.mempool_cache, priv,
                                RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (mp == nullptr) {
      *error = "mbuf pool " + name + " (" + std::to_string(config_.mbufs_per_queue) +
               " mbufs): " + rte_strerror(rte_errno) + " (more EAL memory: -m)";
      return false;
    }
    sources_.push_back(std::make_unique<MbufSource>(mp));
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    rc = rte_eth_rx_queue_setup(id, q, rxd, socket, &rxconf, mp);
    if (rc != 0) {
      *error = "rte_eth_rx_queue_setup: " + std::string(rte_strerror(-rc));
      return false;
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(id, q, txd, socket, &txconf);
    if (rc != 0) {
      *error = "rte_eth_tx_queue_setup: " + std::string(rte_strerror(-rc));
      return false;
    }
  }
  rte_ether_addr mac{};
  if (rte_eth_macaddr_get(id, &mac) != 0) {
    *error = "rte_eth_macaddr_get failed";
    return false;
  }
  std::memcpy(config_.stack.mac.bytes.data(), mac.addr_bytes, 6);
  uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(id, &mtu) == 0 && mtu >= 576) config_.stack.mtu = mtu;
  rc = rte_eth_dev_start(id);
  if (rc != 0) {
    *error = "rte_eth_dev_start: " + std::string(rte_strerror(-rc));
    return false;
  }
  started_ = true;
  // ARP broadcasts are all the stack needs beyond unicast; some PMDs filter them otherwise.
  rte_eth_allmulticast_enable(id);
  rte_eth_link link{};
  rte_eth_link_get_nowait(id, &link);
  LOG_INFO("dpdk",
           "port %u (%s) started: MAC %s, MTU %u, %u queue pair%s, %u RX / %u TX descriptors, "
           "%u mbufs per queue, link %s; checksum offload TX ip %s udp %s, RX %s",
           id, driver_.c_str(), config_.stack.mac.to_string().c_str(), config_.stack.mtu, queues,
           queues == 1 ? "" : "s", rxd, txd, config_.mbufs_per_queue,
           link.link_status ? "up" : "down", config_.stack.tx_ipv4_checksum_offload ? "on" : "off",
           config_.stack.tx_udp_checksum_offload ? "on" : "off",
           conf.rxmode.offloads == rx_want ? "on" : "software");
  return true;
}

DpdkPort::~DpdkPort() {
  if (started_) {
    rte_eth_dev_stop(config_.port_id);
    rte_eth_dev_close(config_.port_id);
  }
  sources_.clear();  // the pools go after the port, whose queues held their mbufs
}

PacketBufferSource& DpdkPort::buffer_source(uint32_t queue) { return *sources_.at(queue); }

bool DpdkPort::link_up() const {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(config_.port_id, &link) == 0 && link.link_status != 0;
}

DpdkPort::Stats DpdkPort::stats() const {
  rte_eth_stats s{};
  Stats out;
  if (rte_eth_stats_get(config_.port_id, &s) != 0) return out;
  out.ipackets = s.ipackets;
  out.opackets = s.opackets;
  out.imissed = s.imissed;
  out.ierrors = s.ierrors;
  out.oerrors = s.oerrors;
  out.rx_nombuf = s.rx_nombuf;
  return out;
}

}  // namespace weir::dp
