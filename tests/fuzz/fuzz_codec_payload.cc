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
  (void)codec_kind_from_mime(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
