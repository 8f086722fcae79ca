#include "media_payload.h"

#include <cstring>

#include "wire/byte_io.h"
#include "wire/rtp_packet.h"

namespace weir::pktgen {

using wire::load_be32;
using wire::load_be64;
using wire::store_be16;
using wire::store_be32;
using wire::store_be64;

VideoPacketizer::VideoPacketizer(const VideoStreamConfig& config)
    : config_(config),
      packets_per_frame_((config.rate_pps + kFramesPerSecondTarget - 1) / kFramesPerSecondTarget),
      keyframe_interval_packets_(static_cast<uint64_t>(config.rate_pps) *
                                 kKeyFrameIntervalSeconds) {}

PacketShape VideoPacketizer::shape(uint64_t counter) const {
  PacketShape s;
  if (config_.kind == MediaKind::audio) {
    // Every packet is a frame of its own; the first one of a talk spurt carries the marker.
    s.frame = counter;
    s.frame_start = true;
    s.frame_end = counter == 0;
    s.keyframe = true;
    s.sequence = static_cast<uint16_t>(config_.first_sequence + counter);
    s.timestamp = static_cast<uint32_t>(config_.first_timestamp +
                                        counter * kAudioClockRate / config_.rate_pps);
    return s;
  }
  const uint64_t ppf = packets_per_frame_;
  s.frame = counter / ppf;
  const uint64_t first = s.frame * ppf;
  s.frame_start = counter == first;
  s.frame_end = counter == first + ppf - 1;
  // A frame is a key frame when a key-frame instant (every interval packets) falls within
  // the packets since the previous frame started: the first frame at or after each instant.
  s.keyframe = s.frame == 0 ||
               (first / keyframe_interval_packets_) != ((first - ppf) / keyframe_interval_packets_);
  s.sequence = static_cast<uint16_t>(config_.first_sequence + counter);
  // Frame f is presented at f * ppf / rate seconds.
  s.timestamp = static_cast<uint32_t>(config_.first_timestamp +
                                      s.frame * ppf * kVideoClockRate / config_.rate_pps);
  return s;
}

size_t VideoPacketizer::write(uint64_t counter, uint64_t send_ns, uint8_t* out,
                              size_t capacity) const {
  if (config_.kind == MediaKind::audio) return write_audio(counter, send_ns, out, capacity);
  const size_t len = kRtpHeaderSize + config_.payload_size;
  if (capacity < len || config_.payload_size < kMinPayloadSize) return 0;
  const PacketShape s = shape(counter);
  wire::write_rtp_fixed_header(out, s.frame_end, config_.payload_type, s.sequence, s.timestamp,
                               config_.ssrc);
  uint8_t* p = out + kRtpHeaderSize;
  // X=1, N=0, S on the first packet of the frame, PID 0.
  p[0] = static_cast<uint8_t>(0x80 | (s.frame_start ? 0x10 : 0x00));
  p[1] = 0x80;  // I: picture id present
  store_be16(p + 2, static_cast<uint16_t>(0x8000 | (s.frame & 0x7FFF)));
  uint8_t* body = p + kVp8DescriptorSize;
  const size_t body_len = config_.payload_size - kVp8DescriptorSize - kStampSize;
  std::memset(body, 0xA5, body_len);
  if (s.frame_start) {
    // RFC 6386 frame tag: P (bit 0) clear on key frames, version 0, show_frame, and a
    // first-partition size that fits the packet.
    const uint32_t partition = 64;
    const uint32_t tag = (partition << 5) | (1u << 4) | (s.keyframe ? 0u : 1u);
    body[0] = static_cast<uint8_t>(tag);
    body[1] = static_cast<uint8_t>(tag >> 8);
    body[2] = static_cast<uint8_t>(tag >> 16);
    if (s.keyframe) {
      body[3] = 0x9d;
      body[4] = 0x01;
      body[5] = 0x2a;
      body[6] = 0x80;  // width 640, little-endian, no scaling
      body[7] = 0x02;
      body[8] = 0xe0;  // height 480
      body[9] = 0x01;
    }
  }
  uint8_t* stamp = body + body_len;
  store_be32(stamp, kStampMagic);
  store_be64(stamp + 4, counter);
  store_be64(stamp + 12, send_ns);
  return len;
}

size_t VideoPacketizer::write_audio(uint64_t counter, uint64_t send_ns, uint8_t* out,
                                    size_t capacity) const {
  const size_t len = kRtpHeaderSize + config_.payload_size;
  if (capacity < len || config_.payload_size < kMinAudioPayloadSize) return 0;
  const PacketShape s = shape(counter);
  wire::write_rtp_fixed_header(out, s.frame_end, config_.payload_type, s.sequence, s.timestamp,
                               config_.ssrc);
  uint8_t* body = out + kRtpHeaderSize;
  const size_t body_len = config_.payload_size - kStampSize;
  // An opus TOC byte (config 31: CELT FB 20 ms, stereo, one frame), then filler.
  if (body_len > 0) body[0] = 0xFC;
  if (body_len > 1) std::memset(body + 1, 0x5A, body_len - 1);
  uint8_t* stamp = body + body_len;
  store_be32(stamp, kStampMagic);
  store_be64(stamp + 4, counter);
  store_be64(stamp + 12, send_ns);
  return len;
}

bool read_stamp(const uint8_t* payload, size_t len, PayloadStamp& out) {
  if (len < kStampSize) return false;
  const uint8_t* stamp = payload + len - kStampSize;
  if (load_be32(stamp) != kStampMagic) return false;
  out.counter = load_be64(stamp + 4);
  out.send_ns = load_be64(stamp + 12);
  return true;
}

size_t vp8_descriptor_size(const uint8_t* payload, size_t len) {
  if (len < 1) return 0;
  size_t n = 1;
  if ((payload[0] & 0x80) == 0) return n;
  if (len < 2) return 0;
  const uint8_t x = payload[1];
  n = 2;
  if (x & 0x80) {  // I: picture id, 7 or 15 bits
    if (len < n + 1) return 0;
    n += (payload[n] & 0x80) ? 2 : 1;
  }
  if (x & 0x40) ++n;  // L: TL0PICIDX
  if (x & 0x30) ++n;  // T or K: TID/Y/KEYIDX byte
  return n <= len ? n : 0;
}

}  // namespace weir::pktgen
