#include "dataplane_generator.h"

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <time.h>

#include <cstdio>

#include "dataplane/dpdk_eal.h"

namespace weir::bench {
namespace {

constexpr unsigned kRxBurst = 32;
constexpr unsigned kTxBurst = 256;

}  // namespace

Generator::Generator(rte_ring* rx, rte_ring* tx, rte_mempool* frames, ProducerFrames& producer,
                     ForwardedFrames& forwarded, uint32_t verify_every)
    : rx_(rx),
      tx_(tx),
      frames_(frames),
      producer_(producer),
      checker_(forwarded),
      verify_every_(verify_every) {}

void Generator::start() {
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
}

void Generator::stop() {
  if (!thread_.joinable()) return;
  running_.store(false, std::memory_order_release);
  thread_.join();
}

void Generator::run() {
  // An EAL thread gets a mempool cache: allocating frames and freeing the worker's sends
  // then rarely touch the pools' shared rings.
  std::string error;
  if (!dp::dpdk_register_thread(&error)) std::fprintf(stderr, "generator: %s\n", error.c_str());
  while (running_.load(std::memory_order_acquire)) {
    const bool fed = top_up();
    const bool drained = drain();
    if (!fed && !drained) {
      // The worker is busy with what it has: nap briefly rather than spin on a shared
      // host. 20 µs is far below what the TX ring holds at any rate the worker reaches.
      timespec ts{0, 20'000};
      nanosleep(&ts, nullptr);
    }
  }
  while (drain()) {
  }
}

bool Generator::top_up() {
  const unsigned room = rte_ring_free_count(rx_);
  if (room < kRxBurst) return false;
  if (rte_ring_count(rx_) == 0) rx_found_empty_.add();
  rte_mbuf* m[kRxBurst];
  if (rte_pktmbuf_alloc_bulk(frames_, m, kRxBurst) != 0) return false;  // all in flight
  unsigned n = 0;
  for (unsigned i = 0; i < kRxBurst; ++i) {
    auto* data = rte_pktmbuf_mtod(m[i], uint8_t*);
    const size_t len = producer_.build(data, rte_pktmbuf_tailroom(m[i]));
    if (len == 0) {
      build_failed_.add();
      rte_pktmbuf_free(m[i]);
      continue;
    }
    rte_pktmbuf_append(m[i], static_cast<uint16_t>(len));
    m[n++] = m[i];
  }
  const unsigned queued = rte_ring_sp_enqueue_burst(rx_, reinterpret_cast<void**>(m), n, nullptr);
  if (queued < n) rte_pktmbuf_free_bulk(m + queued, n - queued);  // never: room was checked
  sent_.add(queued);
  return true;
}

bool Generator::drain() {
  rte_mbuf* m[kTxBurst];
  const unsigned got =
      rte_ring_sc_dequeue_burst(tx_, reinterpret_cast<void**>(m), kTxBurst, nullptr);
  if (got == 0) return false;
  uint64_t forwarded = 0, other = 0;
  for (unsigned i = 0; i < got; ++i) {
    const auto* f = rte_pktmbuf_mtod(m[i], const uint8_t*);
    const size_t len = rte_pktmbuf_data_len(m[i]);
    if (checker_.classify(f, len) != TxKind::consumer_rtp) {
      ++other;
      continue;
    }
    ++forwarded;
    if (--until_verify_ != 0) continue;
    until_verify_ = verify_every_;
    std::string why;
    if (checker_.verify(f, len, &why)) {
      verified_.add();
    } else {
      if (verify_failed_.get() == 0) first_failure_ = why;
      verify_failed_.add();
    }
  }
  forwarded_.add(forwarded);
  other_tx_.add(other);
  rte_pktmbuf_free_bulk(m, got);
  return true;
}

}  // namespace weir::bench
