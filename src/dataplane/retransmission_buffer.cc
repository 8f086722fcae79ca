#include "dataplane/retransmission_buffer.h"

namespace weir::dp {

namespace {

// A capacity that is not a power of two is rounded up, so that slot = seq & mask holds.
uint32_t round_up_pow2(uint32_t v) {
  uint32_t p = 1;
  while (p < v && p < 0x10000) p <<= 1;  // more slots than sequence numbers buy nothing
  return p;
}

}  // namespace

RetransmissionBuffer::RetransmissionBuffer(PacketPool& pool, uint32_t capacity) : pool_(pool) {
  if (capacity == 0) return;
  const uint32_t size = round_up_pow2(capacity);
  mask_ = size - 1;
  slots_ = std::make_unique<Slot[]>(size);
}

RetransmissionBuffer::~RetransmissionBuffer() { clear(); }

void RetransmissionBuffer::store(uint16_t seq, PacketBuffer* buf, uint64_t now_ns) {
  (void)now_ns;  // the ring's size bounds the age; kept for an age limit later
  if (slots_ == nullptr) return;
  Slot& slot = slots_[seq & mask_];
  // Reference before release: storing the buffer a slot already holds must not free it.
  if (buf != nullptr) PacketPool::ref(buf);
  if (slot.buf != nullptr) pool_.release(slot.buf);
  slot.buf = buf;
  slot.seq = seq;
}

PacketBuffer* RetransmissionBuffer::find(uint16_t seq) const {
  if (slots_ == nullptr) return nullptr;
  const Slot& slot = slots_[seq & mask_];
  return slot.buf != nullptr && slot.seq == seq ? slot.buf : nullptr;
}

void RetransmissionBuffer::clear() {
  if (slots_ == nullptr) return;
  for (uint32_t i = 0; i <= mask_; ++i) {
    if (slots_[i].buf != nullptr) {
      pool_.release(slots_[i].buf);
      slots_[i].buf = nullptr;
    }
  }
}

}  // namespace weir::dp
