// Pipes between dataplane workers: how a producer on one worker reaches its consumers on
// another without any table being shared. For every ordered pair of workers (A, B) there is
// one media ring A->B, carrying each received (decrypted, validated) RTP packet of A's
// producers that have consumers on B, and one small ring B->A carrying those consumers'
// key-frame requests back to the producer. Each ring has exactly one writer (the worker it
// leaves) and one reader (the worker it goes to); slots are fixed and preallocated, so
// nothing locks and nothing allocates per packet. A full ring drops (counted), never waits.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "dataplane/spsc_ring.h"
#include "dataplane/worker_commands.h"

namespace weir::dp {

class UdpEngine;

// One piped RTP packet: the plain bytes and what the receiving worker cannot re-derive
// cheaply (which stream of the producer, whether it starts a key frame).
// No member initializers on purpose: the ring's slots are allocated uninitialized, so a
// pipe between two workers that never share a room costs address space, not memory
// (N workers have N*(N-1) pipes of ~4 MiB each).
struct PipedPacket {
  static constexpr size_t kMaxSize = 1920;  // a pool buffer's room after its headroom
  ProducerId producer;
  uint8_t stream;
  bool keyframe;
  uint16_t len;
  uint64_t arrival_ns;  // when the producer's worker received it
  uint8_t data[kMaxSize];
};
static_assert(std::is_trivially_default_constructible_v<PipedPacket>);

// A consumer's wish for a key frame of one stream, going back to the producer's worker.
struct PipedKeyFrameRequest {
  ProducerId producer = 0;
  uint8_t stream = 0;
};

// A bounded SPSC ring of PipedPackets written in place: the writer fills the slot it
// reserved and commits it, the reader uses the front slot and pops it, so a packet is
// copied once into the ring and read from there.
class PipeRing {
 public:
  explicit PipeRing(size_t capacity_pow2)
      : mask_(capacity_pow2 - 1),
        slots_(std::make_unique_for_overwrite<PipedPacket[]>(capacity_pow2)) {}
  PipeRing(const PipeRing&) = delete;
  PipeRing& operator=(const PipeRing&) = delete;

  // Writer: the next free slot, or nullptr when the ring is full.
  PipedPacket* reserve() {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ > mask_) return nullptr;
    }
    return &slots_[head & mask_];
  }
  // Writer: publishes the slot reserve() returned.
  void commit() {
    head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Reader: the oldest packet, or nullptr when empty.
  const PipedPacket* front() {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return nullptr;
    }
    return &slots_[tail & mask_];
  }
  // Reader: gives the front slot back to the writer.
  void pop() { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

  bool empty() const {
    return tail_.load(std::memory_order_acquire) == head_.load(std::memory_order_acquire);
  }
  size_t capacity() const { return mask_ + 1; }

 private:
  const size_t mask_;
  std::unique_ptr<PipedPacket[]> slots_;
  alignas(64) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // writer's view of tail
  alignas(64) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // reader's view of head
};

// Every pipe of the process: created before the workers, which each attach their engine
// so that the others can wake them when a pipe to them has something.
class WorkerPipes {
 public:
  static constexpr size_t kMediaSlots = 2048;
  static constexpr size_t kKeyFrameSlots = 256;

  explicit WorkerPipes(uint32_t workers, size_t media_slots = kMediaSlots,
                       size_t keyframe_slots = kKeyFrameSlots);
  WorkerPipes(const WorkerPipes&) = delete;
  WorkerPipes& operator=(const WorkerPipes&) = delete;

  uint32_t worker_count() const { return workers_; }
  // from != to, both < worker_count().
  PipeRing& media(uint32_t from, uint32_t to) { return *media_[from * workers_ + to]; }
  SpscRing<PipedKeyFrameRequest>& keyframes(uint32_t from, uint32_t to) {
    return *keyframes_[from * workers_ + to];
  }
  // Worker `worker` is woken through this engine (set once at start, before any pipe exists).
  void attach(uint32_t worker, UdpEngine* engine) {
    engines_[worker].store(engine, std::memory_order_release);
  }
  // Thread-safe: makes the worker's waiting rx_burst return, so it drains its pipes.
  void wake(uint32_t worker) const;

  // A worker about to wait in the kernel says so, then looks at its pipes once more; a
  // writer wakes it only if it says so. Both sides put a full fence between their store
  // and their load (Dekker): either the sleeper sees the packet or the writer sees the
  // sleeper, so a wake is never lost and a busy worker is never woken (no system call).
  void set_sleeping(uint32_t worker, bool sleeping) {
    sleeping_[worker].store(sleeping, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Writer, after it committed what it piped to `worker`.
  void wake_if_sleeping(uint32_t worker) const {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (worker < workers_ && sleeping_[worker].load(std::memory_order_relaxed)) wake(worker);
  }

 private:
  uint32_t workers_;
  std::vector<std::unique_ptr<PipeRing>> media_;  // [from * workers + to]; null when from == to
  std::vector<std::unique_ptr<SpscRing<PipedKeyFrameRequest>>> keyframes_;
  std::unique_ptr<std::atomic<UdpEngine*>[]> engines_;
  std::unique_ptr<std::atomic<bool>[]> sleeping_;
};

}  // namespace weir::dp
