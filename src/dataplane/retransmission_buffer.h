// The last packets of one producer stream, kept by reference (no copy) for answering the
// consumers' NACKs: a ring indexed by sequence number, each slot holding one reference to
// the received (decrypted) buffer. A fixed table allocated once; store and lookup are O(1).
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/packet_pool.h"

namespace weir::dp {

class RetransmissionBuffer {
 public:
  // capacity: a power of two (packets), 0 disables the buffer.
  RetransmissionBuffer(PacketPool& pool, uint32_t capacity);
  ~RetransmissionBuffer();  // releases every held buffer
  RetransmissionBuffer(const RetransmissionBuffer&) = delete;
  RetransmissionBuffer& operator=(const RetransmissionBuffer&) = delete;

  // Keeps buf (takes one more reference) as sequence number seq received at now_ns,
  // releasing whatever held its slot.
  void store(uint16_t seq, PacketBuffer* buf, uint64_t now_ns);
  // The stored packet with exactly this sequence number, or nullptr (never stored, or
  // already overwritten by a newer one). The buffer stays owned by the ring.
  PacketBuffer* find(uint16_t seq) const;
  // Releases every held buffer.
  void clear();
  uint32_t capacity() const { return mask_ + 1; }
  bool enabled() const { return slots_ != nullptr; }

 private:
  struct Slot {
    PacketBuffer* buf = nullptr;
    uint16_t seq = 0;
  };
  PacketPool& pool_;
  uint32_t mask_ = 0;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace weir::dp
