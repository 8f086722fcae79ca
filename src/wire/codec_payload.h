// Peeks into RTP payloads of the video codecs weir forwards, to tell key frames (where a
// decoder can start) from the rest. Pure and bounds-checked; false for anything unsure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weir::wire {

enum class CodecKind : uint8_t { vp8, vp9, h264, av1, opus, other };

// "video/VP8" -> vp8, case-insensitive; other for anything not listed.
CodecKind codec_kind_from_mime(std::string_view mime_type);

// True if this packet starts (or, for H.264 STAP-A, contains) a key frame:
// VP8 (RFC 7741): start of partition 0 with the P bit clear in the VP8 frame header.
// VP9 (draft-ietf-payload-vp9): B bit set and P bit clear (not inter-picture predicted).
// H.264 (RFC 6184): an IDR slice (5) or SPS (7), alone, in STAP-A or as FU-A start.
// AV1: the N bit (new coded video sequence) of the aggregation header.
// Audio and unknown codecs: every packet counts as a key frame.
bool is_keyframe(CodecKind codec, const uint8_t* payload, size_t len);

// Where the RFC 7741 VP8 payload descriptor keeps the numbers a simulcast switch must
// keep continuous: the picture id (7 or 15 bits) and TL0PICIDX; and the temporal layer.
struct Vp8Descriptor {
  bool start_of_frame = false;  // S set, partition 0: the frame's first packet
  bool has_picture_id = false;
  bool long_picture_id = false;  // M bit: 15 bits
  uint16_t picture_id = 0;
  bool has_tl0_pic_idx = false;
  uint8_t tl0_pic_idx = 0;
  bool has_temporal_id = false;
  uint8_t temporal_id = 0;
  uint8_t picture_id_offset = 0;   // from the payload start
  uint8_t tl0_pic_idx_offset = 0;
  uint8_t size = 0;  // the descriptor's length in bytes
};

// false if the payload is too short for the descriptor it announces.
bool parse_vp8_descriptor(const uint8_t* payload, size_t len, Vp8Descriptor& out);

// Rewrites, in a copy of a payload parsed into layout, the picture id (masked to its
// width) and TL0PICIDX where the descriptor has them.
void rewrite_vp8_descriptor(uint8_t* payload, const Vp8Descriptor& layout, uint16_t picture_id,
                            uint8_t tl0_pic_idx);

}  // namespace weir::wire
