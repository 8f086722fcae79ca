// Key-frame detection on payload headers as browsers send them (RFC 7741, the VP9 payload
// draft, RFC 6184, the AV1 RTP spec).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "wire/codec_payload.h"

namespace weir::wire {
namespace {

using Bytes = std::vector<uint8_t>;

bool key(CodecKind c, const Bytes& b) { return is_keyframe(c, b.data(), b.size()); }

// VP8 as Chrome sends it: X=1 S=1 PID=0, I=1 with a 15-bit picture id, then the frame tag
// and, for a key frame, the start code 9d 01 2a and 640x480.
const Bytes kVp8Key = {0x90, 0x80, 0x80, 0x01, 0x50, 0x0b, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
const Bytes kVp8Delta = {0x90, 0x80, 0x80, 0x02, 0x31, 0x0b, 0x00, 0x11, 0x22, 0x33, 0x44};
// Simulcast layers add L and T: X byte 0xE0, TL0PICIDX, TID/Y/KEYIDX.
const Bytes kVp8KeySimulcast = {0x90, 0xe0, 0x8a, 0x1c, 0x05, 0x20, 0x50, 0x0b, 0x00, 0x9d, 0x01, 0x2a};
// Continuation of partition 0 (S=0).
const Bytes kVp8Continuation = {0x80, 0x80, 0x80, 0x01, 0x50, 0x0b, 0x00, 0x9d, 0x01, 0x2a};
// Short descriptor without X (e.g. libvpx/ffmpeg).
const Bytes kVp8KeyNoExtension = {0x10, 0x50, 0x0b, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02};

TEST(CodecPayload, Vp8KeyFrames) {
  EXPECT_TRUE(key(CodecKind::vp8, kVp8Key));
  EXPECT_TRUE(key(CodecKind::vp8, kVp8KeySimulcast));
  EXPECT_TRUE(key(CodecKind::vp8, kVp8KeyNoExtension));
  EXPECT_FALSE(key(CodecKind::vp8, kVp8Delta));
  EXPECT_FALSE(key(CodecKind::vp8, kVp8Continuation));
  Bytes wrong_start_code = kVp8Key;
  wrong_start_code[8] = 0x02;
  EXPECT_FALSE(key(CodecKind::vp8, wrong_start_code));
  Bytes other_partition = kVp8Key;
  other_partition[0] = 0x91;  // PID 1
  EXPECT_FALSE(key(CodecKind::vp8, other_partition));
}

TEST(CodecPayload, Vp9KeyFrames) {
  // I=1 P=0 B=1 E=1 V=1, 15-bit picture id: the first packet of a key frame.
  EXPECT_TRUE(key(CodecKind::vp9, {0x8e, 0x80, 0x01, 0x18, 0x02, 0x80, 0x01, 0xe0}));
  // P=1: inter-predicted.
  EXPECT_FALSE(key(CodecKind::vp9, {0xcc, 0x80, 0x02, 0x00}));
  // P=0 but B=0: not the start of the frame.
  EXPECT_FALSE(key(CodecKind::vp9, {0x84, 0x80, 0x01, 0x00}));
  // L=1 with spatial layer 0 vs spatial layer 1.
  EXPECT_TRUE(key(CodecKind::vp9, {0xa8, 0x80, 0x01, 0x00, 0x00}));
  EXPECT_FALSE(key(CodecKind::vp9, {0xa8, 0x80, 0x01, 0x02, 0x00}));
  EXPECT_FALSE(key(CodecKind::vp9, {0xa8, 0x80}));  // layer byte missing
}

TEST(CodecPayload, H264KeyFrames) {
  // Single NAL units: SPS, IDR slice, non-IDR slice, PPS.
  EXPECT_TRUE(key(CodecKind::h264, {0x67, 0x42, 0xe0, 0x1f}));
  EXPECT_TRUE(key(CodecKind::h264, {0x65, 0x88, 0x84, 0x00}));
  EXPECT_FALSE(key(CodecKind::h264, {0x41, 0x9a, 0x02, 0x00}));
  EXPECT_FALSE(key(CodecKind::h264, {0x68, 0xce, 0x3c, 0x80}));
  // STAP-A with SPS + PPS (what Chrome sends before an IDR).
  const Bytes stap = {0x78, 0x00, 0x04, 0x67, 0x42, 0xe0, 0x1f, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80};
  EXPECT_TRUE(key(CodecKind::h264, stap));
  // STAP-A with only PPS + SEI; and one whose NAL size lies.
  EXPECT_FALSE(key(CodecKind::h264, {0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x06, 0x05}));
  EXPECT_FALSE(key(CodecKind::h264, {0x78, 0x00, 0x10, 0x67, 0x42}));
  // FU-A: IDR start, IDR middle, non-IDR start.
  EXPECT_TRUE(key(CodecKind::h264, {0x7c, 0x85, 0x88, 0x84}));
  EXPECT_FALSE(key(CodecKind::h264, {0x7c, 0x05, 0x12, 0x34}));
  EXPECT_FALSE(key(CodecKind::h264, {0x7c, 0x81, 0x9a, 0x02}));
  EXPECT_FALSE(key(CodecKind::h264, {0x7c}));
}

TEST(CodecPayload, Av1NewCodedVideoSequence) {
  EXPECT_TRUE(key(CodecKind::av1, {0x18, 0x0a, 0x0b}));   // W=1 N=1
  EXPECT_FALSE(key(CodecKind::av1, {0x10, 0x32, 0x00}));  // W=1 N=0
}

TEST(CodecPayload, AudioAndUnknownAreAlwaysKey) {
  EXPECT_TRUE(key(CodecKind::opus, {0xfc, 0xff, 0xfe}));
  EXPECT_TRUE(key(CodecKind::other, {}));
  EXPECT_FALSE(key(CodecKind::vp8, {}));
  EXPECT_FALSE(key(CodecKind::h264, {}));
}

TEST(CodecPayload, KindFromMime) {
  EXPECT_EQ(codec_kind_from_mime("video/VP8"), CodecKind::vp8);
  EXPECT_EQ(codec_kind_from_mime("video/vp9"), CodecKind::vp9);
  EXPECT_EQ(codec_kind_from_mime("VIDEO/H264"), CodecKind::h264);
  EXPECT_EQ(codec_kind_from_mime("video/AV1"), CodecKind::av1);
  EXPECT_EQ(codec_kind_from_mime("audio/opus"), CodecKind::opus);
  EXPECT_EQ(codec_kind_from_mime("video/rtx"), CodecKind::other);
  EXPECT_EQ(codec_kind_from_mime("video/VP8x"), CodecKind::other);
}

TEST(CodecPayload, Vp8DescriptorLayouts) {
  // X, I with M (15-bit id 0x1234), L (TL0PICIDX 0x56), T (TID 2): 6 bytes.
  const uint8_t full[] = {0x90, 0xE0, 0x92, 0x34, 0x56, 0x80, 0x00, 0x00};
  Vp8Descriptor d;
  ASSERT_TRUE(parse_vp8_descriptor(full, sizeof full, d));
  EXPECT_TRUE(d.has_picture_id);
  EXPECT_TRUE(d.long_picture_id);
  EXPECT_EQ(d.picture_id, 0x1234);
  EXPECT_EQ(d.picture_id_offset, 2);
  EXPECT_TRUE(d.has_tl0_pic_idx);
  EXPECT_EQ(d.tl0_pic_idx, 0x56);
  EXPECT_EQ(d.tl0_pic_idx_offset, 4);
  EXPECT_TRUE(d.has_temporal_id);
  EXPECT_EQ(d.temporal_id, 2);
  EXPECT_EQ(d.size, 6);
  // 7-bit picture id only.
  const uint8_t short_id[] = {0x90, 0x80, 0x7F, 0x00};
  ASSERT_TRUE(parse_vp8_descriptor(short_id, sizeof short_id, d));
  EXPECT_TRUE(d.has_picture_id);
  EXPECT_FALSE(d.long_picture_id);
  EXPECT_EQ(d.picture_id, 0x7F);
  EXPECT_FALSE(d.has_tl0_pic_idx);
  EXPECT_EQ(d.size, 3);
  // K without T: the byte is there, no temporal id.
  const uint8_t key_idx[] = {0x90, 0x10, 0x1F, 0x00};
  ASSERT_TRUE(parse_vp8_descriptor(key_idx, sizeof key_idx, d));
  EXPECT_FALSE(d.has_temporal_id);
  EXPECT_EQ(d.size, 3);
  // No X: one byte.
  const uint8_t plain[] = {0x10, 0x00};
  ASSERT_TRUE(parse_vp8_descriptor(plain, sizeof plain, d));
  EXPECT_FALSE(d.has_picture_id);
  EXPECT_EQ(d.size, 1);
  // Announced but missing fields.
  EXPECT_FALSE(parse_vp8_descriptor(full, 3, d));  // 15-bit id cut in half
  EXPECT_FALSE(parse_vp8_descriptor(full, 4, d));  // TL0PICIDX missing
  EXPECT_FALSE(parse_vp8_descriptor(full, 5, d));  // TID byte missing
  EXPECT_FALSE(parse_vp8_descriptor(full, 0, d));
}

TEST(CodecPayload, Vp8DescriptorRewriteKeepsWidthAndFlags) {
  uint8_t full[] = {0x90, 0xE0, 0x92, 0x34, 0x56, 0x80, 0xAA};
  Vp8Descriptor d;
  ASSERT_TRUE(parse_vp8_descriptor(full, sizeof full, d));
  rewrite_vp8_descriptor(full, d, 0x8001, 0x07);  // wraps to 15 bits: 1
  Vp8Descriptor again;
  ASSERT_TRUE(parse_vp8_descriptor(full, sizeof full, again));
  EXPECT_EQ(again.picture_id, 1);
  EXPECT_TRUE(again.long_picture_id);
  EXPECT_EQ(again.tl0_pic_idx, 0x07);
  EXPECT_EQ(again.temporal_id, 2);
  EXPECT_EQ(full[6], 0xAA);  // the frame itself untouched
  uint8_t short_id[] = {0x90, 0x80, 0x05};
  ASSERT_TRUE(parse_vp8_descriptor(short_id, sizeof short_id, d));
  rewrite_vp8_descriptor(short_id, d, 0x0181, 0);
  EXPECT_EQ(short_id[2], 0x01);  // 7 bits, M stays clear
}

TEST(CodecPayload, EveryTruncationStaysInBounds) {
  const CodecKind kinds[] = {CodecKind::vp8, CodecKind::vp9, CodecKind::h264, CodecKind::av1};
  const Bytes stap = {0x78, 0x00, 0x04, 0x67, 0x42, 0xe0, 0x1f, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80};
  for (const Bytes* full : {&kVp8Key, &kVp8KeySimulcast, &stap}) {
    for (CodecKind kind : kinds) {
      for (size_t n = 0; n <= full->size(); ++n) {
        std::unique_ptr<uint8_t[]> copy(new uint8_t[n == 0 ? 1 : n]);
        if (n > 0) std::memcpy(copy.get(), full->data(), n);
        (void)is_keyframe(kind, copy.get(), n);
      }
    }
  }
  // The key-frame verdict needs the whole VP8 header up to the start code.
  EXPECT_FALSE(is_keyframe(CodecKind::vp8, kVp8Key.data(), 9));
  EXPECT_TRUE(is_keyframe(CodecKind::vp8, kVp8Key.data(), 10));
}

}  // namespace
}  // namespace weir::wire
