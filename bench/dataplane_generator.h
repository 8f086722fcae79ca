// The generator thread of the dataplane benchmark: it stands for the wire on both sides
// of the worker's net_ring port. It keeps the port's RX ring topped up with the producer's
// frames and drains the TX ring, counting the RTP frames that reached a consumer and
// verifying one in K of them. No kernel is involved on either side.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "dataplane/counters.h"
#include "dataplane_frames.h"

struct rte_mempool;
struct rte_ring;

namespace weir::bench {

class Generator {
 public:
  // frames: a pool whose mbufs have a private area of at least sizeof(dp::PacketBuffer)
  // (the worker forwards received mbufs in place).
  Generator(rte_ring* rx, rte_ring* tx, rte_mempool* frames, ProducerFrames& producer,
            ForwardedFrames& forwarded, uint32_t verify_every);
  ~Generator() { stop(); }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  void start();
  void stop();

  // Written by the generator thread only; read at any time.
  uint64_t sent() const { return sent_.get(); }
  uint64_t forwarded() const { return forwarded_.get(); }
  uint64_t other_tx() const { return other_tx_.get(); }
  uint64_t verified() const { return verified_.get(); }
  uint64_t verify_failed() const { return verify_failed_.get(); }
  uint64_t build_failed() const { return build_failed_.get(); }
  // Top-ups that found the RX ring empty: the worker may have polled in vain (and its CPU
  // figure then includes idle polling). Near 0 when the generator keeps up.
  uint64_t rx_found_empty() const { return rx_found_empty_.get(); }
  // After stop(): the first verification failure, empty if none.
  const std::string& first_failure() const { return first_failure_; }

 private:
  void run();
  bool top_up();
  bool drain();

  rte_ring* rx_;
  rte_ring* tx_;
  rte_mempool* frames_;
  ProducerFrames& producer_;
  ForwardedFrames& checker_;
  uint32_t verify_every_;
  uint32_t until_verify_ = 1;  // the first consumer frame is checked
  dp::Counter sent_, forwarded_, other_tx_, verified_, verify_failed_, build_failed_,
      rx_found_empty_;
  std::string first_failure_;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace weir::bench
