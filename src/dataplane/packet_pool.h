// Fixed-size, reference-counted packet buffers, owned by one worker. Two kinds of memory:
// a slab of the pool's own (the kernel engines), or an outside source of buffers handed out
// and taken back in batches (DPDK: every buffer lives in an mbuf, so a received mbuf is
// forwarded, kept for retransmission and sent without a copy). Allocation and release are
// O(1) stack operations on preallocated arrays: nothing here touches the heap after
// construction. Reference counts are plain integers because a pool and its buffers never
// leave their worker thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace weir::dp {

class PacketPool;

struct PacketBuffer {
  uint8_t* base = nullptr;  // first byte of this buffer's memory
  uint32_t index = 0;       // position in the pool; also the io_uring buffer id
  uint16_t capacity = 0;    // bytes from base
  uint16_t data_off = 0;    // where the packet starts (headroom before it)
  uint16_t len = 0;         // packet length
  uint16_t refcnt = 0;
  void* mbuf = nullptr;  // DPDK: the rte_mbuf this buffer is the private area of

  uint8_t* data() { return base + data_off; }
  const uint8_t* data() const { return base + data_off; }
  size_t headroom() const { return data_off; }
  size_t tailroom() const { return static_cast<size_t>(capacity) - data_off - len; }
  // Room for a packet that starts at data(): what SRTP may grow it to.
  size_t room() const { return static_cast<size_t>(capacity) - data_off; }
};

// Where an outside pool's buffers come from. Called once per batch, not per packet.
class PacketBufferSource {
 public:
  virtual ~PacketBufferSource() = default;
  // Up to n fresh buffers (base, capacity and mbuf set); returns how many.
  virtual uint32_t get(PacketBuffer** out, uint32_t n) = 0;
  // Buffers no one references any more.
  virtual void put(PacketBuffer** bufs, uint32_t n) = 0;
  // Buffers the source could still hand out.
  virtual uint32_t available() const = 0;
};

class PacketPool {
 public:
  static constexpr uint32_t kSourceBatch = 64;

  static constexpr uint32_t kDefaultBufferSize = 2048;
  static constexpr uint32_t kDefaultHeadroom = 128;

  explicit PacketPool(uint32_t count, uint32_t buffer_size = kDefaultBufferSize,
                      uint32_t headroom = kDefaultHeadroom);
  // Buffers from source, which outlives the pool.
  PacketPool(PacketBufferSource& source, uint32_t headroom);
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A buffer with refcnt 1, data_off = headroom, len 0; nullptr when the pool is empty
  // (counted in alloc_failures()).
  PacketBuffer* alloc() {
    PacketBuffer* b;
    if (source_ != nullptr) {
      if (cache_count_ == 0 && !refill()) {
        ++alloc_failures_;
        return nullptr;
      }
      b = cache_[--cache_count_];
    } else {
      if (free_count_ == 0) {
        ++alloc_failures_;
        return nullptr;
      }
      b = &buffers_[free_[--free_count_]];
    }
    b->refcnt = 1;
    b->data_off = static_cast<uint16_t>(headroom_);
    b->len = 0;
    return b;
  }
  static void ref(PacketBuffer* b) { ++b->refcnt; }
  void release(PacketBuffer* b) {
    if (--b->refcnt != 0) return;
    if (source_ == nullptr) {
      free_[free_count_++] = b->index;
      return;
    }
    returned_[returned_count_++] = b;
    if (returned_count_ == kSourceBatch) flush();
  }
  // Gives released buffers back to the source now (the worker does it once per loop).
  void flush() {
    if (returned_count_ == 0) return;
    source_->put(returned_.data(), returned_count_);
    returned_count_ = 0;
  }
  // Takes a buffer the I/O engine filled (it already counts as allocated).
  PacketBuffer* at(uint32_t index) { return &buffers_[index]; }

  uint8_t* memory() { return memory_; }
  size_t memory_size() const { return static_cast<size_t>(count_) * buffer_size_; }
  uint32_t buffer_size() const { return buffer_size_; }
  uint32_t headroom() const { return headroom_; }
  uint32_t count() const { return count_; }
  uint32_t available() const {
    return source_ != nullptr ? source_->available() + cache_count_ : free_count_;
  }
  bool has_source() const { return source_ != nullptr; }
  uint64_t alloc_failures() const { return alloc_failures_; }

 private:
  uint8_t* memory_ = nullptr;
  std::unique_ptr<PacketBuffer[]> buffers_;
  std::unique_ptr<uint32_t[]> free_;
  uint32_t count_;
  uint32_t buffer_size_;
  uint32_t headroom_;
  uint32_t free_count_ = 0;
  uint64_t alloc_failures_ = 0;

  bool refill() {
    cache_count_ = source_->get(cache_.data(), kSourceBatch);
    return cache_count_ != 0;
  }
  PacketBufferSource* source_ = nullptr;
  std::array<PacketBuffer*, kSourceBatch> cache_{};
  uint32_t cache_count_ = 0;
  std::array<PacketBuffer*, kSourceBatch> returned_{};
  uint32_t returned_count_ = 0;
};

}  // namespace weir::dp
