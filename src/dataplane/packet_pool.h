// Fixed-size, reference-counted packet buffers carved from one slab, owned by one worker.
// Allocation and release are O(1) stack operations on a preallocated free list: nothing
// here touches the heap after construction. Reference counts are plain integers because a
// pool and its buffers never leave their worker thread.
#pragma once

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

  uint8_t* data() { return base + data_off; }
  const uint8_t* data() const { return base + data_off; }
  size_t headroom() const { return data_off; }
  size_t tailroom() const { return static_cast<size_t>(capacity) - data_off - len; }
  // Room for a packet that starts at data(): what SRTP may grow it to.
  size_t room() const { return static_cast<size_t>(capacity) - data_off; }
};

class PacketPool {
 public:
  static constexpr uint32_t kDefaultBufferSize = 2048;
  static constexpr uint32_t kDefaultHeadroom = 128;

  explicit PacketPool(uint32_t count, uint32_t buffer_size = kDefaultBufferSize,
                      uint32_t headroom = kDefaultHeadroom);
  ~PacketPool();
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A buffer with refcnt 1, data_off = headroom, len 0; nullptr when the pool is empty
  // (counted in alloc_failures()).
  PacketBuffer* alloc() {
    if (free_count_ == 0) {
      ++alloc_failures_;
      return nullptr;
    }
    PacketBuffer* b = &buffers_[free_[--free_count_]];
    b->refcnt = 1;
    b->data_off = static_cast<uint16_t>(headroom_);
    b->len = 0;
    return b;
  }
  static void ref(PacketBuffer* b) { ++b->refcnt; }
  void release(PacketBuffer* b) {
    if (--b->refcnt == 0) free_[free_count_++] = b->index;
  }
  // Takes a buffer the I/O engine filled (it already counts as allocated).
  PacketBuffer* at(uint32_t index) { return &buffers_[index]; }

  uint8_t* memory() { return memory_; }
  size_t memory_size() const { return static_cast<size_t>(count_) * buffer_size_; }
  uint32_t buffer_size() const { return buffer_size_; }
  uint32_t headroom() const { return headroom_; }
  uint32_t count() const { return count_; }
  uint32_t available() const { return free_count_; }
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
};

}  // namespace weir::dp
