#include "dataplane/packet_pool.h"

#include <sys/mman.h>

#include <new>
#include <stdexcept>

namespace weir::dp {

PacketPool::PacketPool(uint32_t count, uint32_t buffer_size, uint32_t headroom)
    : count_(count), buffer_size_(buffer_size), headroom_(headroom) {
  if (count == 0 || buffer_size > 65535 || headroom >= buffer_size)
    throw std::invalid_argument("packet pool: bad geometry");
  // One anonymous mapping: page aligned (io_uring provided buffers and DMA like that),
  // zero-filled lazily by the kernel.
  void* m = mmap(nullptr, memory_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  memory_ = static_cast<uint8_t*>(m);
  buffers_ = std::make_unique<PacketBuffer[]>(count);
  free_ = std::make_unique<uint32_t[]>(count);
  for (uint32_t i = 0; i < count; ++i) {
    PacketBuffer& b = buffers_[i];
    b.base = memory_ + static_cast<size_t>(i) * buffer_size;
    b.index = i;
    b.capacity = static_cast<uint16_t>(buffer_size);
    // Highest index first so that alloc() hands out low indexes first (warmer pages).
    free_[i] = count - 1 - i;
  }
  free_count_ = count;
}

PacketPool::PacketPool(PacketBufferSource& source, uint32_t headroom)
    : count_(0), buffer_size_(0), headroom_(headroom), source_(&source) {}

PacketPool::~PacketPool() {
  if (source_ != nullptr) {
    flush();
    source_->put(cache_.data(), cache_count_);  // handed out by the source, never used
    cache_count_ = 0;
  }
  if (memory_ != nullptr) munmap(memory_, memory_size());
}

}  // namespace weir::dp
