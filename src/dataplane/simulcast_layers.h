// Simulcast on the consumer side: which spatial layer a consumer should forward, and the
// record of which layer (and which numbering) each of its sequence numbers came from, so
// its NACKs find the packet they mean after a layer switch. Pure, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace weir::dp {

constexpr uint8_t kNoLayer = 0xFF;       // nothing forwarded (yet, or since a resync)
constexpr uint8_t kHighestLayer = 0xFF;  // a preference for the highest there is

// The layer to forward: the highest active one not above preferred, else the lowest active
// one; with nothing active, preferred clamped to the layers there are (so a new consumer
// aims where it will most likely end up). active: bit i set if layer i is being received.
uint8_t choose_spatial_layer(uint8_t active, uint8_t layer_count, uint8_t preferred);

// One stretch of a consumer's output numbering: from first_out_seq on, its packets are
// stream `stream`'s packets with seq_offset/ts_offset taken off (as RtpContinuity maps).
struct LayerSegment {
  uint16_t first_out_seq = 0;
  uint16_t seq_offset = 0;
  uint32_t ts_offset = 0;
  uint8_t stream = 0;
};

// The last few segments of a consumer, newest last. Older segments are forgotten: a NACK
// for them is not answered (the packets left the retransmission history long ago anyway).
class LayerSegments {
 public:
  static constexpr size_t kCapacity = 4;

  void start(const LayerSegment& s) {
    segments_[next_ % kCapacity] = s;
    ++next_;
  }
  // The segment out_seq belongs to, or nullptr (before every segment kept).
  const LayerSegment* find(uint16_t out_seq) const;
  void clear() { next_ = 0; }

 private:
  std::array<LayerSegment, kCapacity> segments_{};
  uint32_t next_ = 0;  // how many were started; the newest is next_ - 1
};

}  // namespace weir::dp
