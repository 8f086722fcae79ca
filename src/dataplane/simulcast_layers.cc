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
