#include "wire/codec_payload.h"

namespace weir::wire {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// RFC 7741 section 4.2 payload descriptor, then the VP8 frame tag (RFC 6386 9.1).
bool vp8_is_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t b0 = p[0];
  const bool start_of_partition = (b0 & 0x10) != 0;
  const uint8_t partition_index = b0 & 0x07;
  if (!start_of_partition || partition_index != 0) return false;
  size_t off = 1;
  if ((b0 & 0x80) != 0) {  // X: extension byte follows
    if (len < 2) return false;
    const uint8_t x = p[1];
    off = 2;
    if ((x & 0x80) != 0) {  // I: picture id, 15 bits when its M bit is set
      if (off >= len) return false;
      off += (p[off] & 0x80) != 0 ? 2 : 1;
    }
    if ((x & 0x40) != 0) ++off;           // L: TL0PICIDX
    if ((x & 0x30) != 0) ++off;           // T or K: TID/Y/KEYIDX byte
  }
  // A key frame's header is the 3-byte frame tag then the start code 9d 01 2a; checking
  // the start code keeps a corrupted P bit from passing as a key frame.
  if (off > len || len - off < 6) return false;
  const uint8_t* frame = p + off;
  if ((frame[0] & 0x01) != 0) return false;  // P bit set: inter frame
  return frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a;
}

// draft-ietf-payload-vp9 section 4.2: I P L F B E V Z in the first byte.
bool vp9_is_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t b0 = p[0];
  const bool inter_predicted = (b0 & 0x40) != 0;
  const bool begin_of_frame = (b0 & 0x08) != 0;
  if (inter_predicted || !begin_of_frame) return false;
  size_t off = 1;
  if ((b0 & 0x80) != 0) {  // I: picture id
    if (off >= len) return false;
    off += (p[off] & 0x80) != 0 ? 2 : 1;
  }
  if ((b0 & 0x20) != 0) {  // L: layer indices; a key frame starts at spatial layer 0
    if (off >= len) return false;
    const uint8_t spatial_id = (p[off] >> 1) & 0x07;
    if (spatial_id != 0) return false;
  }
  return true;
}

constexpr uint8_t kH264Idr = 5;
constexpr uint8_t kH264Sps = 7;
constexpr uint8_t kH264StapA = 24;
constexpr uint8_t kH264FuA = 28;

bool h264_nal_is_key(uint8_t nal_header) {
  const uint8_t type = nal_header & 0x1F;
  return type == kH264Idr || type == kH264Sps;
}

// RFC 6184 sections 5.6 (single NAL), 5.7.1 (STAP-A), 5.8 (FU-A).
bool h264_is_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t type = p[0] & 0x1F;
  if (type == kH264StapA) {
    size_t off = 1;
    while (len - off >= 2) {
      const size_t nal_size = static_cast<size_t>((p[off] << 8) | p[off + 1]);
      off += 2;
      if (nal_size == 0 || nal_size > len - off) return false;
      if (h264_nal_is_key(p[off])) return true;
      off += nal_size;
    }
    return false;
  }
  if (type == kH264FuA) {
    if (len < 2) return false;
    const bool start = (p[1] & 0x80) != 0;
    return start && h264_nal_is_key(p[1]);
  }
  return h264_nal_is_key(p[0]);
}

}  // namespace

bool parse_vp8_descriptor(const uint8_t* p, size_t len, Vp8Descriptor& out) {
  out = Vp8Descriptor{};
  if (p == nullptr || len < 1) return false;
  out.start_of_frame = (p[0] & 0x10) != 0 && (p[0] & 0x07) == 0;
  size_t off = 1;
  if ((p[0] & 0x80) != 0) {  // X
    if (len < 2) return false;
    const uint8_t x = p[1];
    off = 2;
    if ((x & 0x80) != 0) {  // I
      if (off >= len) return false;
      out.has_picture_id = true;
      out.picture_id_offset = static_cast<uint8_t>(off);
      if ((p[off] & 0x80) != 0) {
        if (off + 1 >= len) return false;
        out.long_picture_id = true;
        out.picture_id = static_cast<uint16_t>(((p[off] & 0x7F) << 8) | p[off + 1]);
        off += 2;
      } else {
        out.picture_id = p[off] & 0x7F;
        off += 1;
      }
    }
    if ((x & 0x40) != 0) {  // L
      if (off >= len) return false;
      out.has_tl0_pic_idx = true;
      out.tl0_pic_idx_offset = static_cast<uint8_t>(off);
      out.tl0_pic_idx = p[off];
      off += 1;
    }
    if ((x & 0x30) != 0) {  // T or K
      if (off >= len) return false;
      if ((x & 0x20) != 0) {
        out.has_temporal_id = true;
        out.temporal_id = static_cast<uint8_t>(p[off] >> 6);
      }
      off += 1;
    }
  }
  out.size = static_cast<uint8_t>(off);
  return true;
}

void rewrite_vp8_descriptor(uint8_t* payload, const Vp8Descriptor& layout, uint16_t picture_id,
                            uint8_t tl0_pic_idx) {
  if (layout.has_picture_id) {
    uint8_t* at = payload + layout.picture_id_offset;
    if (layout.long_picture_id) {
      at[0] = static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7F));
      at[1] = static_cast<uint8_t>(picture_id);
    } else {
      at[0] = static_cast<uint8_t>(picture_id & 0x7F);
    }
  }
  if (layout.has_tl0_pic_idx) payload[layout.tl0_pic_idx_offset] = tl0_pic_idx;
}

CodecKind codec_kind_from_mime(std::string_view mime_type) {
  if (iequals(mime_type, "video/VP8")) return CodecKind::vp8;
  if (iequals(mime_type, "video/VP9")) return CodecKind::vp9;
  if (iequals(mime_type, "video/H264")) return CodecKind::h264;
  if (iequals(mime_type, "video/AV1")) return CodecKind::av1;
  if (iequals(mime_type, "audio/opus")) return CodecKind::opus;
  return CodecKind::other;
}

bool is_keyframe(CodecKind codec, const uint8_t* payload, size_t len) {
  if (payload == nullptr && len != 0) return false;
  switch (codec) {
    case CodecKind::vp8:
      return vp8_is_keyframe(payload, len);
    case CodecKind::vp9:
      return vp9_is_keyframe(payload, len);
    case CodecKind::h264:
      return h264_is_keyframe(payload, len);
    case CodecKind::av1:
      // AV1 RTP spec section 4.4: N marks the first packet of a new coded video sequence.
      return len >= 1 && (payload[0] & 0x08) != 0;
    case CodecKind::opus:
    case CodecKind::other:
      return true;
  }
  return false;
}

}  // namespace weir::wire
