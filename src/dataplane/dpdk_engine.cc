// The DPDK engine: a worker polls its own RX queue, runs each frame through its network
// stack, and hands the forwarding core UDP datagrams that are still the received mbufs
// (decrypted in place, kept for retransmission by reference). Sends get their headers
// written into the mbuf's headroom and leave in one rte_eth_tx_burst per burst.
//
// A frame can arrive on the wrong worker's queue (one queue, or RSS that knows nothing of
// weir's ports): it is handed to the worker that owns its UDP port through that worker's
// ring, untouched; ARP is copied to every worker, so that each learns its neighbours.
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "dataplane/dpdk_eal.h"
#include "dataplane/dpdk_port.h"
#include "wire/byte_io.h"

namespace weir::dp {
namespace {

constexpr uint32_t kNoSocket = UINT32_MAX;
constexpr size_t kBurst = 64;
constexpr uint64_t kTickNs = 10'000'000;
constexpr unsigned kTxRetries = 4;

// The rings between a port's workers, one per worker (many producers, one consumer).
struct HandoffRings {
  std::vector<rte_ring*> rings;
  ~HandoffRings() {
    for (rte_ring* r : rings) rte_ring_free(r);
  }
};

std::mutex g_rings_mutex;
std::vector<std::weak_ptr<HandoffRings>> g_rings;  // by port id

std::shared_ptr<HandoffRings> rings_for(uint16_t port, uint32_t queues, std::string* error) {
  std::lock_guard<std::mutex> lock(g_rings_mutex);
  if (g_rings.size() <= port) g_rings.resize(port + 1);
  if (auto existing = g_rings[port].lock()) return existing;
  auto rings = std::make_shared<HandoffRings>();
  for (uint32_t q = 0; q < queues; ++q) {
    const std::string name = "weir_h" + std::to_string(port) + "_" + std::to_string(q);
    rte_ring* r = rte_ring_create(name.c_str(), 8192, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (r == nullptr) {
      *error = "rte_ring_create " + name + " failed";
      return nullptr;
    }
    rings->rings.push_back(r);
  }
  g_rings[port] = rings;
  return rings;
}

RxChecksum ip_checksum_of(const rte_mbuf* m) {
  switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
    case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
      return RxChecksum::good;
    case RTE_MBUF_F_RX_IP_CKSUM_BAD:
      return RxChecksum::bad;
    default:
      return RxChecksum::unknown;
  }
}

RxChecksum l4_checksum_of(const rte_mbuf* m) {
  switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
    case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
      return RxChecksum::good;
    case RTE_MBUF_F_RX_L4_CKSUM_BAD:
      return RxChecksum::bad;
    default:
      return RxChecksum::unknown;
  }
}

// The UDP destination port of an untagged IPv4 frame, or 0. Only to pick the owner.
uint16_t peek_udp_port(const rte_mbuf* m) {
  const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
  if (m->data_len < 14 + 20 + 8 || wire::load_be16(p + 12) != 0x0800) return 0;
  const size_t ihl = static_cast<size_t>(p[14] & 0x0f) * 4;
  if (p[14 + 9] != 17 || ihl < 20 || m->data_len < 14 + ihl + 8) return 0;
  return wire::load_be16(p + 14 + ihl + 2);
}

bool is_arp(const rte_mbuf* m) {
  return m->data_len >= 14 && wire::load_be16(rte_pktmbuf_mtod(m, const uint8_t*) + 12) == 0x0806;
}

class DpdkEngine final : public UdpEngine {
 public:
  DpdkEngine(DpdkPort& port, uint32_t queue, PacketPool& pool, std::shared_ptr<HandoffRings> rings)
      : port_(port),
        queue_(static_cast<uint16_t>(queue)),
        pool_(pool),
        stack_(port.stack_config(), pool),
        rings_(std::move(rings)),
        socket_of_port_(65536, kNoSocket) {
    sockets_.reserve(1024);
    free_sockets_.reserve(1024);
  }
  ~DpdkEngine() override { flush_tx(); }

  const char* name() const override { return "dpdk"; }

  int add_socket(const UdpBinding& binding, std::string* error) override {
    const uint16_t port = binding.local.port();
    if (port == 0 || binding.fd >= 0) {
      *error = "dpdk: a binding is a local port of the media address, not a kernel socket";
      return -1;
    }
    if (socket_of_port_[port] != kNoSocket) {
      *error = "dpdk: port " + std::to_string(port) + " is already served";
      return -1;
    }
    uint32_t index;
    if (!free_sockets_.empty()) {
      index = free_sockets_.back();
      free_sockets_.pop_back();
      sockets_[index] = port;
    } else {
      index = static_cast<uint32_t>(sockets_.size());
      sockets_.push_back(port);
    }
    socket_of_port_[port] = index;
    return static_cast<int>(index);
  }

  void remove_socket(uint32_t socket) override {
    if (socket >= sockets_.size() || sockets_[socket] == 0) return;
    socket_of_port_[sockets_[socket]] = kNoSocket;
    sockets_[socket] = 0;
    free_sockets_.push_back(socket);
  }

  size_t rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) override;
  void tx_burst(TxPacket* pkts, size_t n) override;
  size_t preferred_tx_burst() const override { return kBurst; }
  void wake() override { woken_.store(true, std::memory_order_release); }
  const EngineStats& stats() const override { return stats_; }
  const NetStackCounters* net_stack_counters() const override { return &stack_.counters(); }

 private:
  size_t poll(RxPacket* out, size_t max, uint64_t now);
  bool classify(rte_mbuf* m, RxPacket* out, uint64_t now);
  void handoff(rte_mbuf* m, uint32_t owner);
  void queue_frame(PacketBuffer* b);
  void send_stack_frames();
  void flush_tx();

  DpdkPort& port_;
  uint16_t queue_;
  PacketPool& pool_;
  NetStack stack_;
  std::shared_ptr<HandoffRings> rings_;
  std::vector<uint32_t> socket_of_port_;  // UDP port -> socket index
  std::vector<uint16_t> sockets_;         // socket index -> UDP port (0: free)
  std::vector<uint32_t> free_sockets_;
  EngineStats stats_;
  std::atomic<bool> woken_{false};
  bool registered_ = false;
  uint64_t next_tick_ns_ = 0;
  rte_mbuf* tx_[kBurst] = {};
  uint16_t tx_count_ = 0;
};

bool DpdkEngine::classify(rte_mbuf* m, RxPacket* out, uint64_t now) {
  if (m->nb_segs != 1) {  // the pools' 2 KiB data room holds any frame of a 1500 MTU
    ++stats_.rx_truncated;
    rte_pktmbuf_free(m);
    return false;
  }
  // An mbuf from a pool without room for a PacketBuffer (a ring PMD fed by someone else's
  // pool) cannot be forwarded in place.
  if (rte_pktmbuf_priv_size(m->pool) < sizeof(PacketBuffer)) {
    ++stats_.rx_no_buffer;
    rte_pktmbuf_free(m);
    return false;
  }
  auto* b = static_cast<PacketBuffer*>(rte_mbuf_to_priv(m));
  b->mbuf = m;
  b->base = static_cast<uint8_t*>(m->buf_addr);
  b->capacity = m->buf_len;
  b->data_off = m->data_off;
  b->len = m->data_len;
  b->refcnt = 1;
  SocketAddress from;
  uint16_t local_port = 0;
  if (stack_.receive(b, ip_checksum_of(m), l4_checksum_of(m), now, &from, &local_port) !=
      NetStack::Rx::udp) {
    pool_.release(b);
    return false;
  }
  const uint32_t socket = socket_of_port_[local_port];
  if (socket == kNoSocket) {
    ++stats_.rx_unbound;
    pool_.release(b);
    return false;
  }
  ++stats_.rx_packets;
  stats_.rx_bytes += b->len;
  *out = RxPacket{b, socket, from};
  return true;
}

void DpdkEngine::handoff(rte_mbuf* m, uint32_t owner) {
  if (rte_ring_mp_enqueue(rings_->rings[owner], m) != 0) {
    ++stats_.rx_handoff_dropped;
    rte_pktmbuf_free(m);
    return;
  }
  ++stats_.rx_handed_off;
}

size_t DpdkEngine::poll(RxPacket* out, size_t max, uint64_t now) {
  const DpdkPortPlan& plan = port_.config().plan;
  const uint32_t workers = plan.workers;
  size_t n = 0;
  rte_mbuf* mbufs[kBurst];
  // Frames other workers passed on first: they are older.
  if (workers > 1) {
    const unsigned got = rte_ring_sc_dequeue_burst(
        rings_->rings[queue_], reinterpret_cast<void**>(mbufs), std::min(max, kBurst), nullptr);
    for (unsigned i = 0; i < got; ++i)
      if (classify(mbufs[i], &out[n], now)) ++n;
  }
  if (n >= max) return n;
  const uint16_t got = rte_eth_rx_burst(port_.port_id(), queue_, mbufs,
                                        static_cast<uint16_t>(std::min(max - n, kBurst)));
  for (uint16_t i = 0; i < got; ++i) {
    rte_mbuf* m = mbufs[i];
    if (workers > 1) {
      if (is_arp(m)) {
        for (uint32_t w = 0; w < workers; ++w) {
          if (w == queue_) continue;
          rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
          if (copy != nullptr) handoff(copy, w);
        }
      } else {
        const uint16_t port = peek_udp_port(m);
        const uint32_t owner = port != 0 ? plan.owner(port) : queue_;
        if (owner < workers && owner != queue_) {
          handoff(m, owner);
          continue;
        }
      }
    }
    if (classify(m, &out[n], now)) ++n;
  }
  return n;
}

size_t DpdkEngine::rx_burst(RxPacket* out, size_t max, uint32_t timeout_us) {
  if (!registered_) {
    std::string error;
    if (!dpdk_register_thread(&error)) LOG_WARN("dpdk", "worker thread: %s", error.c_str());
    registered_ = true;
  }
  const DpdkPortConfig& config = port_.config();
  uint64_t now = now_ns();
  const uint64_t deadline = now + static_cast<uint64_t>(timeout_us) * 1000;
  uint32_t idle = 0;
  for (;;) {
    const size_t n = poll(out, max, now);
    if (now >= next_tick_ns_) {
      stack_.on_tick(now);
      next_tick_ns_ = now + kTickNs;
    }
    if (stack_.has_outgoing()) {
      send_stack_frames();
      flush_tx();
    }
    pool_.flush();
    if (n > 0 || timeout_us == 0) return n;
    if (woken_.exchange(false, std::memory_order_acq_rel)) return 0;
    now = now_ns();
    if (now >= deadline) return 0;
    if (config.idle_sleep_us != 0 && ++idle >= config.idle_spin_polls) {
      // A worker on a shared host naps instead of spinning; wake() ends the nap early at
      // the next look.
      timespec ts{0, static_cast<long>(config.idle_sleep_us) * 1000};
      nanosleep(&ts, nullptr);
      now = now_ns();
    }
  }
}

void DpdkEngine::queue_frame(PacketBuffer* b) {
  auto* m = static_cast<rte_mbuf*>(b->mbuf);
  m->data_off = b->data_off;
  m->data_len = b->len;
  m->pkt_len = b->len;
  const NetStackConfig& sc = stack_.config();
  if (sc.tx_ipv4_checksum_offload || sc.tx_udp_checksum_offload) {
    m->l2_len = 14;
    m->l3_len = 20;
    m->ol_flags = RTE_MBUF_F_TX_IPV4;
    if (sc.tx_ipv4_checksum_offload) m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
    // Only UDP frames carry the pseudo-header seed: ARP and ICMP are finished already.
    if (sc.tx_udp_checksum_offload && b->len >= 14 + 20 + 8 &&
        wire::load_be16(b->data() + 12) == 0x0800 && b->data()[14 + 9] == 17)
      m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
  }
  b->refcnt = 0;  // the PMD owns the mbuf now and returns it to its pool once sent
  tx_[tx_count_++] = m;
  ++stats_.tx_packets;
  stats_.tx_bytes += b->len;
  if (tx_count_ == kBurst) flush_tx();
}

void DpdkEngine::flush_tx() {
  uint16_t sent = 0;
  for (unsigned attempt = 0; attempt < kTxRetries && sent < tx_count_; ++attempt)
    sent += rte_eth_tx_burst(port_.port_id(), queue_, tx_ + sent,
                             static_cast<uint16_t>(tx_count_ - sent));
  if (tx_count_ != 0) ++stats_.submits;
  if (sent < tx_count_) {
    // The TX ring stayed full: drop (counted) rather than stall the worker.
    stats_.tx_dropped += tx_count_ - sent;
    stats_.tx_packets -= tx_count_ - sent;
    rte_pktmbuf_free_bulk(tx_ + sent, tx_count_ - sent);
  }
  tx_count_ = 0;
}

void DpdkEngine::send_stack_frames() {
  PacketBuffer* frames[kBurst];
  size_t n;
  while ((n = stack_.take_outgoing(frames, kBurst)) != 0)
    for (size_t i = 0; i < n; ++i) queue_frame(frames[i]);
}

void DpdkEngine::tx_burst(TxPacket* pkts, size_t n) {
  const uint64_t now = now_ns();
  for (size_t i = 0; i < n; ++i) {
    PacketBuffer* b = pkts[i].buf;
    if (pkts[i].socket >= sockets_.size() || sockets_[pkts[i].socket] == 0) {
      ++stats_.tx_errors;
      pool_.release(b);
      continue;
    }
    if (b->refcnt > 1) {
      // Someone else still reads this buffer (it is shared, e.g. kept for retransmission):
      // the headers must not go into its headroom, so this one send copies.
      PacketBuffer* copy = pool_.alloc();
      if (copy == nullptr) {
        ++stats_.tx_dropped;
        pool_.release(b);
        continue;
      }
      std::memcpy(copy->data(), b->data(), b->len);
      copy->len = b->len;
      pool_.release(b);
      b = copy;
      ++stats_.tx_copies;
    }
    if (stack_.encapsulate(b, sockets_[pkts[i].socket], pkts[i].to, now)) queue_frame(b);
  }
  if (stack_.has_outgoing()) send_stack_frames();
  flush_tx();
}

}  // namespace

std::unique_ptr<UdpEngine> make_dpdk_engine(DpdkPort& port, uint32_t queue, PacketPool& pool,
                                            std::string* error) {
  if (queue >= port.config().queues) {
    *error = "dpdk: no queue " + std::to_string(queue);
    return nullptr;
  }
  auto rings = rings_for(port.port_id(), port.config().queues, error);
  if (!rings) return nullptr;
  return std::make_unique<DpdkEngine>(port, queue, pool, std::move(rings));
}

}  // namespace weir::dp
