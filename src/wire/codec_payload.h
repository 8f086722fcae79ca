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

}  // namespace weir::wire
