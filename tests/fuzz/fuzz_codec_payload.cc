// Key-frame detection for every codec on arbitrary payloads.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/codec_payload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::wire;
  for (CodecKind kind : {CodecKind::vp8, CodecKind::vp9, CodecKind::h264, CodecKind::av1,
                         CodecKind::opus, CodecKind::other}) {
    (void)is_keyframe(kind, data, size);
  }
  Vp8Descriptor d;
  if (parse_vp8_descriptor(data, size, d)) {
    if (d.size > size) __builtin_trap();
    uint8_t copy[64];
    if (d.size <= sizeof copy) {
      __builtin_memcpy(copy, data, d.size);
      rewrite_vp8_descriptor(copy, d, static_cast<uint16_t>(d.picture_id + 1),
                             static_cast<uint8_t>(d.tl0_pic_idx + 1));
      Vp8Descriptor again;
      if (!parse_vp8_descriptor(copy, d.size, again) || again.size != d.size) __builtin_trap();
    }
  }
  (void)codec_kind_from_mime(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
