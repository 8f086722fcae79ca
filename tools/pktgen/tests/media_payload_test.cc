#include "media_payload.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire/byte_io.h"
#include "wire/codec_payload.h"
#include "wire/rtp_packet.h"

namespace weir::pktgen {
namespace {

VideoStreamConfig config(uint32_t rate) {
  VideoStreamConfig c;
  c.ssrc = 0x01020304;
  c.payload_type = 101;
  c.rate_pps = rate;
  c.payload_size = 1100;
  c.first_sequence = 65530;
  c.first_timestamp = 1000;
  return c;
}

TEST(VideoPacketizer, FramesOfCeilRateOver30Packets) {
  EXPECT_EQ(VideoPacketizer(config(100)).packets_per_frame(), 4u);
  EXPECT_EQ(VideoPacketizer(config(30)).packets_per_frame(), 1u);
  EXPECT_EQ(VideoPacketizer(config(31)).packets_per_frame(), 2u);
  EXPECT_EQ(VideoPacketizer(config(1000)).packets_per_frame(), 34u);
}

TEST(VideoPacketizer, MarkerOnLastPacketAndTimestampPerFrame) {
  VideoPacketizer p(config(100));  // 4 packets per frame, 25 frames/s: 3600 ticks a frame
  std::vector<uint8_t> buf(2048);
  for (uint64_t k = 0; k < 12; ++k) {
    const size_t len = p.write(k, 0, buf.data(), buf.size());
    ASSERT_EQ(len, 12u + 1100u);
    wire::RtpPacketView v;
    ASSERT_TRUE(wire::RtpPacketView::parse(buf.data(), len, v));
    EXPECT_EQ(v.marker(), k % 4 == 3) << k;
    EXPECT_EQ(v.sequence_number(), static_cast<uint16_t>(65530 + k));
    EXPECT_EQ(v.timestamp(), 1000u + (k / 4) * 3600u);
    EXPECT_EQ(v.ssrc(), 0x01020304u);
    EXPECT_EQ(v.payload_type(), 101);
  }
}

TEST(VideoPacketizer, KeyFrameFirstAndEveryTwoSeconds) {
  VideoPacketizer p(config(100));  // 200 packets between key frames
  EXPECT_TRUE(p.shape(0).keyframe);
  EXPECT_FALSE(p.shape(4).keyframe);
  EXPECT_FALSE(p.shape(196).keyframe);
  EXPECT_TRUE(p.shape(200).keyframe);
  EXPECT_TRUE(p.shape(203).keyframe);  // same frame
  EXPECT_FALSE(p.shape(204).keyframe);
  EXPECT_TRUE(p.shape(400).keyframe);
  // rate 90: 3 packets a frame, 180 between key frames: 180 starts a frame.
  VideoPacketizer q(config(90));
  EXPECT_TRUE(q.shape(180).keyframe);
  EXPECT_FALSE(q.shape(177).keyframe);
  // rate 100 with 7-packet frames would not land on 200: the next frame start carries it.
  VideoPacketizer r(config(200));  // 7 packets a frame, 400 between key frames
  EXPECT_FALSE(r.shape(399).keyframe);
  EXPECT_TRUE(r.shape(406).keyframe);  // frame 58 starts at 406, the first at/after 400
  EXPECT_FALSE(r.shape(413).keyframe);
}

TEST(VideoPacketizer, Vp8DescriptorAndFrameHeaderSeenByKeyframeParser) {
  VideoPacketizer p(config(100));
  std::vector<uint8_t> buf(2048);
  auto keyframe_seen = [&](uint64_t k) {
    const size_t len = p.write(k, 0, buf.data(), buf.size());
    wire::RtpPacketView v;
    EXPECT_TRUE(wire::RtpPacketView::parse(buf.data(), len, v));
    EXPECT_EQ(vp8_descriptor_size(v.payload(), v.payload_size()), kVp8DescriptorSize);
    return wire::is_keyframe(wire::CodecKind::vp8, v.payload(), v.payload_size());
  };
  EXPECT_TRUE(keyframe_seen(0));   // S=1, PID 0, P=0
  EXPECT_FALSE(keyframe_seen(1));  // continuation packet of the key frame: S=0
  EXPECT_FALSE(keyframe_seen(4));  // start of an inter frame: P=1
  EXPECT_TRUE(keyframe_seen(200));
  // Descriptor bits straight from RFC 7741.
  p.write(0, 0, buf.data(), buf.size());
  EXPECT_EQ(buf[12], 0x90);      // X, S, PID 0
  EXPECT_EQ(buf[13], 0x80);      // I
  EXPECT_EQ(buf[16] & 0x01, 0);  // P clear
  EXPECT_EQ(buf[19], 0x9d);
  p.write(4, 0, buf.data(), buf.size());
  EXPECT_EQ(buf[12], 0x90);
  EXPECT_EQ(buf[16] & 0x01, 1);
  p.write(5, 0, buf.data(), buf.size());
  EXPECT_EQ(buf[12], 0x80);
  EXPECT_EQ(wire::load_be16(buf.data() + 14), 0x8000 | 1);  // picture id = frame 1
}

TEST(VideoPacketizer, StampRoundTripsAtPayloadEnd) {
  VideoPacketizer p(config(100));
  std::vector<uint8_t> buf(2048);
  const size_t len = p.write(123456789012ull, 987654321098765ull, buf.data(), buf.size());
  PayloadStamp s;
  ASSERT_TRUE(read_stamp(buf.data() + 12, len - 12, s));
  EXPECT_EQ(s.counter, 123456789012ull);
  EXPECT_EQ(s.send_ns, 987654321098765ull);
  buf[len - kStampSize] ^= 1;  // break the magic
  EXPECT_FALSE(read_stamp(buf.data() + 12, len - 12, s));
  EXPECT_FALSE(read_stamp(buf.data(), kStampSize - 1, s));
}

TEST(VideoPacketizer, RefusesShortBuffers) {
  VideoPacketizer p(config(100));
  std::vector<uint8_t> buf(1111);
  EXPECT_EQ(p.write(0, 0, buf.data(), buf.size()), 0u);
  VideoStreamConfig tiny = config(100);
  tiny.payload_size = kMinPayloadSize - 1;
  std::vector<uint8_t> big(2048);
  EXPECT_EQ(VideoPacketizer(tiny).write(0, 0, big.data(), big.size()), 0u);
}

TEST(Vp8Descriptor, Sizes) {
  const uint8_t plain[] = {0x10};
  EXPECT_EQ(vp8_descriptor_size(plain, 1), 1u);
  const uint8_t seven_bit_pid[] = {0x90, 0x80, 0x05};
  EXPECT_EQ(vp8_descriptor_size(seven_bit_pid, 3), 3u);
  const uint8_t all[] = {0x90, 0xF0, 0x80, 0x01, 0x11, 0x22};
  EXPECT_EQ(vp8_descriptor_size(all, 6), 6u);
  EXPECT_EQ(vp8_descriptor_size(all, 5), 0u);  // truncated
  EXPECT_EQ(vp8_descriptor_size(all, 0), 0u);
}

TEST(VideoPacketizer, AudioIsOnePacketAFrameWithoutVp8Descriptor) {
  VideoStreamConfig c;
  c.kind = MediaKind::audio;
  c.ssrc = 77;
  c.payload_type = 100;
  c.rate_pps = 50;  // 20 ms frames: 960 ticks at 48 kHz
  c.payload_size = 160;
  c.first_sequence = 10;
  c.first_timestamp = 5;
  VideoPacketizer p(c);
  std::vector<uint8_t> buf(512);
  for (uint64_t k = 0; k < 4; ++k) {
    const size_t len = p.write(k, 1000 + k, buf.data(), buf.size());
    ASSERT_EQ(len, 12u + 160u);
    wire::RtpPacketView v;
    ASSERT_TRUE(wire::RtpPacketView::parse(buf.data(), len, v));
    EXPECT_EQ(v.payload_type(), 100);
    EXPECT_EQ(v.marker(), k == 0);
    EXPECT_EQ(v.sequence_number(), 10 + k);
    EXPECT_EQ(v.timestamp(), 5u + 960u * k);
    EXPECT_EQ(v.payload()[0], 0xFC);  // opus TOC: CELT FB 20 ms stereo, one frame
    PayloadStamp stamp;
    ASSERT_TRUE(read_stamp(v.payload(), v.payload_size(), stamp));
    EXPECT_EQ(stamp.counter, k);
    EXPECT_EQ(stamp.send_ns, 1000 + k);
  }
  c.payload_size = kMinAudioPayloadSize - 1;
  EXPECT_EQ(VideoPacketizer(c).write(0, 0, buf.data(), buf.size()), 0u);
}

}  // namespace
}  // namespace weir::pktgen
