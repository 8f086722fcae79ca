// Simulcast on the consumer side: which spatial layer a consumer should forward, and the
// record of which layer (and which numbering) each of its sequence numbers came from, so
// its NACKs find the packet they mean after a layer switch. Pure, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/codec_payload.h"

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
  uint8_t tl0_offset = 0;  // VP8 (see Vp8Continuity)
  uint16_t picture_id_offset = 0;
};

// A consumer's VP8 picture ids and TL0PICIDX, continuous across layer switches the way
// RtpContinuity keeps sequence numbers: each simulcast encoder counts its own, and a
// receiver that sees the picture id jump back may take the new frames for old ones.
struct Vp8Continuity {
  bool started = false;
  uint16_t picture_id_offset = 0;
  uint8_t tl0_offset = 0;
  uint16_t last_picture_id = 0;  // last sent, masked to the width it was sent with
  uint8_t last_tl0 = 0;

  // The next packet sent is d's: it follows the last one sent (+1).
  void resync(const wire::Vp8Descriptor& d);
  // Frames before d's were left out (higher temporal layers): its picture id follows the
  // last one sent; TL0PICIDX keeps its mapping (TL0 frames are never left out).
  void skip_to(const wire::Vp8Descriptor& d) {
    if (d.has_picture_id && started) {
      picture_id_offset = static_cast<uint16_t>(d.picture_id - (last_picture_id + 1));
    }
  }
  uint16_t map_picture_id(uint16_t in, bool long_id) const {
    return static_cast<uint16_t>((in - picture_id_offset) & (long_id ? 0x7FFF : 0x7F));
  }
  uint8_t map_tl0(uint8_t in) const { return static_cast<uint8_t>(in - tl0_offset); }
  // Records what was sent, if newer than what was (reordered packets are older).
  void sent(const wire::Vp8Descriptor& d, uint16_t out_picture_id, uint8_t out_tl0);
};

// The last segments of a consumer, newest last. Older segments are forgotten: a NACK for
// them is not answered. Left-out temporal layers start a segment every other frame or so,
// hence 32 (512 bytes a consumer): about a second of TL0-only video.
class LayerSegments {
 public:
  static constexpr size_t kCapacity = 32;

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
