#include "dataplane/simulcast_layers.h"

namespace weir::dp {

uint8_t choose_spatial_layer(uint8_t active, uint8_t layer_count, uint8_t preferred) {
  if (layer_count == 0) return 0;
  const uint8_t highest = static_cast<uint8_t>(layer_count - 1);
  const uint8_t ceiling = preferred < highest ? preferred : highest;
  if (active == 0) return ceiling;
  for (int i = ceiling; i >= 0; --i) {
    if ((active >> i) & 1u) return static_cast<uint8_t>(i);
  }
  for (uint8_t i = static_cast<uint8_t>(ceiling + 1); i < layer_count; ++i) {
    if ((active >> i) & 1u) return i;
  }
  return ceiling;  // active bits only beyond the layers there are: ignore them
}

void Vp8Continuity::resync(const wire::Vp8Descriptor& d) {
  if (!started) {
    started = true;
    picture_id_offset = 0;
    tl0_offset = 0;
    last_picture_id = d.picture_id;
    last_tl0 = d.tl0_pic_idx;
    return;
  }
  if (d.has_picture_id) {
    picture_id_offset = static_cast<uint16_t>(d.picture_id - (last_picture_id + 1));
  }
  if (d.has_tl0_pic_idx) tl0_offset = static_cast<uint8_t>(d.tl0_pic_idx - (last_tl0 + 1));
}

void Vp8Continuity::sent(const wire::Vp8Descriptor& d, uint16_t out_picture_id,
                         uint8_t out_tl0) {
  if (d.has_picture_id) {
    const uint16_t mask = d.long_picture_id ? 0x7FFF : 0x7F;
    const auto ahead = static_cast<uint16_t>((out_picture_id - last_picture_id) & mask);
    if (ahead < (mask + 1) / 2) last_picture_id = out_picture_id;
  }
  if (d.has_tl0_pic_idx && static_cast<int8_t>(out_tl0 - last_tl0) >= 0) last_tl0 = out_tl0;
}

const LayerSegment* LayerSegments::find(uint16_t out_seq) const {
  const uint32_t kept = next_ < kCapacity ? next_ : kCapacity;
  for (uint32_t back = 1; back <= kept; ++back) {
    const LayerSegment& s = segments_[(next_ - back) % kCapacity];
    // Wrap-aware "at or after the segment's first number": newer segments are checked
    // first, so the first one that starts at or before out_seq holds it.
    if (static_cast<int16_t>(out_seq - s.first_out_seq) >= 0) return &s;
  }
  return nullptr;
}

}  // namespace weir::dp
