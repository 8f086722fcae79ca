#include "dpdk_media.h"

#include <arpa/inet.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "base/clock.h"
#include "dataplane/dpdk_eal.h"
#include "dataplane/net_stack.h"
#include "dataplane/spsc_ring.h"

namespace weir::pktgen {
namespace {

constexpr size_t kBurst = 64;
constexpr size_t kPostedSlots = 4096;  // a sender burst is at most 64: room for many
// ICE checks and DTLS flights come a few at a time; a DTLS record fits one MTU.
constexpr size_t kReturnedSlots = 64;
constexpr size_t kControlDatagramMax = 1500;

void nap_us(uint32_t us) {
  const timespec ts{0, static_cast<long>(us) * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

// The sender thread pushes, the receiving thread pops and sends.
class DpdkMedia::Posted {
 public:
  Posted() : ring_(kPostedSlots) {}
  dp::SpscRing<dp::TxPacket>& ring() { return ring_; }
  uint64_t dropped() const { return dropped_.get(); }
  void count_drop() { dropped_.add(); }

 private:
  dp::SpscRing<dp::TxPacket> ring_;
  dp::Counter dropped_;  // written by the sender thread only
};

// The receiving thread pushes copies, the sender thread pops them (PostingEngine::rx_burst).
class DpdkMedia::Returned {
 public:
  struct Datagram {
    dp::SocketAddress from;
    uint16_t len = 0;
    uint8_t data[kControlDatagramMax];
  };

  Returned() : ring_(kReturnedSlots) {}
  dp::SpscRing<Datagram>& ring() { return ring_; }
  uint64_t returned() const { return returned_.get(); }
  uint64_t dropped() const { return dropped_.get(); }
  void count_return() { returned_.add(); }
  void count_drop() { dropped_.add(); }

 private:
  dp::SpscRing<Datagram> ring_;
  dp::Counter returned_;  // both written by the receiving thread only
  dp::Counter dropped_;
};

// Every queue's DPDK engine, polled in turn without waiting, on one thread. Each knows
// every socket (all are added to all, so their indexes agree): a frame is served by the
// queue it arrived on, whichever that is. Sends go out on queue 0.
class DpdkMedia::QueuesEngine final : public dp::UdpEngine {
 public:
  QueuesEngine(std::vector<std::unique_ptr<dp::UdpEngine>> queues, dp::PacketPool& pool,
               std::shared_ptr<Posted> posted, const dp::DpdkPortConfig& port)
      : queues_(std::move(queues)),
        pool_(pool),
        posted_(std::move(posted)),
        spin_polls_(port.idle_spin_polls),
        sleep_us_(port.idle_sleep_us) {}
  ~QueuesEngine() override {
    // Whatever the sender posted last still holds mbufs.
    while (auto p = posted_->ring().pop()) pool_.release(p->buf);
    pool_.flush();
  }

  const char* name() const override { return "dpdk"; }

  int add_socket(const dp::UdpBinding& binding, std::string* error) override {
    int index = -1;
    for (size_t q = 0; q < queues_.size(); ++q) {
      const int i = queues_[q]->add_socket(binding, error);
      if (i < 0 || (index >= 0 && i != index)) {
        if (i >= 0) {
          queues_[q]->remove_socket(static_cast<uint32_t>(i));
          *error = "dpdk queues disagree on a socket's index";
        }
        for (size_t r = 0; r < q; ++r) queues_[r]->remove_socket(static_cast<uint32_t>(index));
        return -1;
      }
      index = i;
    }
    return index;
  }

  void remove_socket(uint32_t socket) override {
    for (auto& q : queues_) q->remove_socket(socket);
  }

  size_t rx_burst(dp::RxPacket* out, size_t max, uint32_t timeout_us) override {
    const uint64_t deadline = now_ns() + static_cast<uint64_t>(timeout_us) * 1000;
    uint32_t idle = 0;
    for (;;) {
      send_posted();
      size_t n = 0;
      for (size_t k = 0; k < queues_.size() && n < max; ++k) {
        n += queues_[next_]->rx_burst(out + n, max - n, 0);
        next_ = (next_ + 1) % queues_.size();
      }
      if (n > 0 || timeout_us == 0) return n;
      if (woken_.exchange(false, std::memory_order_acq_rel)) return 0;
      if (now_ns() >= deadline) return 0;
      // Spin a while (DpdkMediaConfig::idle_spin_polls), then nap. The sender's posts wait
      // at most one nap.
      if (sleep_us_ != 0 && ++idle >= spin_polls_) nap_us(sleep_us_);
    }
  }

  void tx_burst(dp::TxPacket* pkts, size_t n) override { queues_.front()->tx_burst(pkts, n); }
  void wake() override { woken_.store(true, std::memory_order_release); }

  const dp::EngineStats& stats() const override {
    dp::EngineStats sum;
    for (const auto& q : queues_) {
      const dp::EngineStats& s = q->stats();
      sum.rx_packets += s.rx_packets;
      sum.rx_bytes += s.rx_bytes;
      sum.rx_truncated += s.rx_truncated;
      sum.rx_no_buffer += s.rx_no_buffer;
      sum.tx_packets += s.tx_packets;
      sum.tx_bytes += s.tx_bytes;
      sum.tx_errors += s.tx_errors;
      sum.tx_dropped += s.tx_dropped;
      sum.submits += s.submits;
      sum.rx_unbound += s.rx_unbound;
      sum.rx_handed_off += s.rx_handed_off;
      sum.rx_handoff_dropped += s.rx_handoff_dropped;
      sum.tx_copies += s.tx_copies;
    }
    sum_ = sum;
    return sum_;
  }
  // Queue 0's: it sends, so it is the one that resolves weir's address.
  const dp::NetStackCounters* net_stack_counters() const override {
    return queues_.front()->net_stack_counters();
  }
  const std::vector<std::unique_ptr<dp::UdpEngine>>& queues() const { return queues_; }

 private:
  void send_posted() {
    dp::TxPacket batch[kBurst];
    for (;;) {
      size_t n = 0;
      while (n < kBurst) {
        auto p = posted_->ring().pop();
        if (!p) break;
        batch[n++] = *p;
      }
      if (n == 0) return;
      queues_.front()->tx_burst(batch, n);
      if (n < kBurst) return;
    }
  }

  std::vector<std::unique_ptr<dp::UdpEngine>> queues_;
  dp::PacketPool& pool_;
  std::shared_ptr<Posted> posted_;
  uint32_t spin_polls_;
  uint32_t sleep_us_;
  size_t next_ = 0;
  std::atomic<bool> woken_{false};
  mutable dp::EngineStats sum_;
};

namespace {

// The sender thread's engine: its sends are posted to the receiving thread's engine, which
// owns the queue. What it receives is what the receiving thread returned to it: the ICE and
// DTLS of a WebRTC producer (weir's RTCP is counted and dropped over there).
class PostingEngine final : public dp::UdpEngine {
 public:
  PostingEngine(std::shared_ptr<DpdkMedia::Posted> posted,
                std::shared_ptr<DpdkMedia::Returned> returned, dp::PacketPool& pool,
                dp::UdpBinding binding, uint32_t socket)
      : posted_(std::move(posted)),
        returned_(std::move(returned)),
        pool_(pool),
        binding_(binding),
        socket_(socket) {}

  const char* name() const override { return "dpdk"; }
  int add_socket(const dp::UdpBinding& binding, std::string* error) override {
    if (binding.fd >= 0 || binding.local != binding_.local) {
      *error = "dpdk: the sender's one socket is " + binding_.local.to_string();
      return -1;
    }
    return static_cast<int>(socket_);
  }
  void remove_socket(uint32_t) override {}
  size_t rx_burst(dp::RxPacket* out, size_t max, uint32_t timeout_us) override;
  void tx_burst(dp::TxPacket* pkts, size_t n) override;
  void wake() override {}
  const dp::EngineStats& stats() const override { return stats_; }

 private:
  size_t take_returned(dp::RxPacket* out, size_t max);

  std::shared_ptr<DpdkMedia::Posted> posted_;
  std::shared_ptr<DpdkMedia::Returned> returned_;
  dp::PacketPool& pool_;
  dp::UdpBinding binding_;
  uint32_t socket_;
  dp::EngineStats stats_;
};

}  // namespace

// Waits for returned datagrams in naps of kReturnNapUs: the sender thread paces media with
// absolute deadlines and calls with timeout 0 between them; only the handshake waits.
size_t PostingEngine::rx_burst(dp::RxPacket* out, size_t max, uint32_t timeout_us) {
  constexpr uint32_t kReturnNapUs = 200;
  const uint64_t deadline = now_ns() + static_cast<uint64_t>(timeout_us) * 1000;
  for (;;) {
    const size_t n = take_returned(out, max);
    if (n > 0 || timeout_us == 0) return n;
    const uint64_t now = now_ns();
    if (now >= deadline) return 0;
    nap_us(static_cast<uint32_t>(std::min<uint64_t>(kReturnNapUs, (deadline - now) / 1000 + 1)));
  }
}

size_t PostingEngine::take_returned(dp::RxPacket* out, size_t max) {
  size_t n = 0;
  while (n < max) {
    auto d = returned_->ring().pop();
    if (!d) break;
    dp::PacketBuffer* b = pool_.alloc();
    if (b == nullptr) {
      ++stats_.rx_no_buffer;  // the datagram is lost, as a full socket buffer would lose it
      continue;
    }
    std::memcpy(b->data(), d->data, d->len);
    b->len = d->len;
    out[n++] = dp::RxPacket{b, socket_, d->from};
    ++stats_.rx_packets;
    stats_.rx_bytes += d->len;
  }
  return n;
}

void PostingEngine::tx_burst(dp::TxPacket* pkts, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const uint16_t len = pkts[i].buf->len;
    if (pkts[i].socket != socket_) {
      ++stats_.tx_errors;
      pool_.release(pkts[i].buf);
      continue;
    }
    if (!posted_->ring().push(dp::TxPacket(pkts[i]))) {
      ++stats_.tx_dropped;
      posted_->count_drop();
      pool_.release(pkts[i].buf);
      continue;
    }
    ++stats_.tx_packets;
    stats_.tx_bytes += len;
  }
  ++stats_.submits;
  pool_.flush();
}

DpdkMedia::DpdkMedia(const DpdkMediaConfig& config) : config_(config) {}

DpdkMedia::~DpdkMedia() {
  engine_.reset();
  pools_.clear();
  port_.reset();
  if (eal_up_) dp::dpdk_eal_cleanup();
}

std::unique_ptr<DpdkMedia> DpdkMedia::open(const DpdkMediaConfig& config, std::string* error) {
  std::unique_ptr<DpdkMedia> m(new DpdkMedia(config));
  if (!m->start(error)) return nullptr;
  return m;
}

bool DpdkMedia::start(std::string* error) {
  in_addr ip{};
  if (inet_pton(AF_INET, config_.local_ip.c_str(), &ip) != 1) {
    *error = "dpdk: --local-ip " + config_.local_ip + " is not an IPv4 address";
    return false;
  }
  if (!dp::dpdk_eal_init(dp::split_eal_arguments(config_.eal_args), error)) return false;
  eal_up_ = true;
  dp::DpdkPortConfig pc;
  pc.port_id = 0;
  pc.queues = config_.queues;
  pc.mbufs_per_queue = config_.mbufs_per_queue;
  pc.stack.ip = ntohl(ip.s_addr);
  pc.stack.prefix_length = static_cast<uint8_t>(config_.prefix_length);
  // One owner for every port: each queue's engine serves what arrives on its queue itself
  // (they all know every socket), no frame is handed between them.
  pc.plan.workers = 1;
  pc.plan.min_port = 1;
  pc.plan.max_port = 65535;
  pc.idle_spin_polls = config_.idle_spin_polls;
  pc.idle_sleep_us = config_.idle_sleep_us;
  port_ = dp::DpdkPort::open(pc, error);
  if (!port_) return false;

  std::vector<std::unique_ptr<dp::UdpEngine>> queues;
  for (uint32_t q = 0; q < config_.queues; ++q) {
    pools_.push_back(std::make_unique<dp::PacketPool>(port_->buffer_source(q), dp::kDpdkHeadroom));
    auto engine = dp::make_dpdk_engine(*port_, q, *pools_.back(), error);
    if (!engine) return false;
    queues.push_back(std::move(engine));
  }
  posted_ = std::make_shared<Posted>();
  returned_ = std::make_shared<Returned>();
  engine_ =
      std::make_unique<QueuesEngine>(std::move(queues), *pools_.front(), posted_, port_->config());
  const int sender = engine_->add_socket(binding(config_.sender_port), error);
  if (sender < 0) return false;
  sender_socket_ = static_cast<uint32_t>(sender);

  const uint64_t begin = now_ns();
  const uint64_t give_up = begin + static_cast<uint64_t>(config_.link_timeout_ms) * 1000000;
  while (!port_->link_up()) {
    if (now_ns() >= give_up) {
      *error = "dpdk port 0 (" + port_->driver_name() + "): link still down after " +
               std::to_string(config_.link_timeout_ms) + " ms (a net_memif client needs its " +
               "server running on the same socket)";
      return false;
    }
    nap_us(1000);
  }
  link_wait_s_ = static_cast<double>(now_ns() - begin) / 1e9;
  return true;
}

dp::UdpEngine& DpdkMedia::engine() { return *engine_; }

dp::UdpBinding DpdkMedia::binding(uint16_t port) const {
  dp::UdpBinding b;
  b.fd = -1;
  b.local = *dp::SocketAddress::parse(config_.local_ip, port);  // start() checked the ip
  return b;
}

std::unique_ptr<dp::PacketPool> DpdkMedia::make_sender_pool() {
  return std::make_unique<dp::PacketPool>(port_->buffer_source(0), dp::kDpdkHeadroom);
}

std::unique_ptr<dp::UdpEngine> DpdkMedia::make_sender_engine(dp::PacketPool& pool,
                                                             std::string* error) {
  if (sender_made_) {
    *error = "dpdk: one sender engine only";
    return nullptr;
  }
  sender_made_ = true;
  return std::make_unique<PostingEngine>(posted_, returned_, pool, sender_binding(),
                                         sender_socket_);
}

bool DpdkMedia::return_to_sender(const dp::RxPacket& rx) {
  Returned::Datagram d;
  if (rx.buf->len > sizeof(d.data)) {
    returned_->count_drop();
    return false;
  }
  d.from = rx.from;
  d.len = rx.buf->len;
  std::memcpy(d.data, rx.buf->data(), d.len);
  if (!returned_->ring().push(std::move(d))) {
    returned_->count_drop();
    return false;
  }
  returned_->count_return();
  return true;
}

DpdkMediaCounters DpdkMedia::counters() const {
  DpdkMediaCounters c;
  c.port = port_->stats();
  for (const auto& q : engine_->queues()) {
    c.rx_unbound += q->stats().rx_unbound;
    c.tx_dropped += q->stats().tx_dropped;
    if (const dp::NetStackCounters* s = q->net_stack_counters()) {
      c.stack_dropped += s->dropped();
      c.arp_requests_sent += s->arp_requests_sent.get();
    }
  }
  c.posted_dropped = posted_->dropped();
  c.control_returned = returned_->returned();
  c.control_dropped = returned_->dropped();
  return c;
}

}  // namespace weir::pktgen
