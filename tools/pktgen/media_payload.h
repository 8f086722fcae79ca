// The RTP streams pktgen sends. Video: VP8 payload descriptors (RFC 7741) shaped into
// frames so that weir's key-frame logic sees real frame starts. Audio (the meeting
// scenario): opus-like packets, one 20 ms frame each at 48 kHz, no codec header (weir does
// not look into opus). Both end in a stamp with pktgen's packet counter and send time so
// that the receiver can place every packet in the measured window and time it. Packet k
// is a pure function of k: no state to drift.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weir::pktgen {

constexpr uint32_t kStampMagic = 0x57454952;  // "WEIR"
constexpr size_t kStampSize = 4 + 8 + 8;      // magic, counter, CLOCK_MONOTONIC ns
// X=1, I=1 with a 15-bit picture id (M=1): 4 bytes on every packet.
constexpr size_t kVp8DescriptorSize = 4;
// Frame tag (3) + start code (3) + width/height (4), on the first packet of a key frame.
constexpr size_t kVp8KeyFrameHeaderSize = 10;
constexpr size_t kMinPayloadSize = kVp8DescriptorSize + kVp8KeyFrameHeaderSize + kStampSize;
constexpr uint32_t kMaxPayloadSize = 1400;
constexpr size_t kRtpHeaderSize = 12;
constexpr size_t kMinAudioPayloadSize = kStampSize;
constexpr uint32_t kVideoClockRate = 90000;
constexpr uint32_t kAudioClockRate = 48000;
constexpr uint32_t kFramesPerSecondTarget = 30;
constexpr uint32_t kKeyFrameIntervalSeconds = 2;

enum class MediaKind : uint8_t { video, audio };

// Despite its name also describes an audio stream (kind audio): the fanout scenario came first.
struct VideoStreamConfig {
  MediaKind kind = MediaKind::video;
  uint32_t ssrc = 0;
  uint8_t payload_type = 101;
  uint32_t rate_pps = 100;
  size_t payload_size = 1100;  // RTP payload, VP8 descriptor included
  uint16_t first_sequence = 0;
  uint32_t first_timestamp = 0;
};

struct PacketShape {
  uint64_t frame = 0;
  bool frame_start = false;
  bool frame_end = false;  // marker bit
  bool keyframe = false;   // part of a key frame
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
};

// Writes video or audio packets, after the config's kind.
class VideoPacketizer {
 public:
  explicit VideoPacketizer(const VideoStreamConfig& config);

  uint32_t packets_per_frame() const { return packets_per_frame_; }
  PacketShape shape(uint64_t counter) const;
  // Writes RTP packet number `counter` at out; returns its length, 0 if capacity is short.
  size_t write(uint64_t counter, uint64_t send_ns, uint8_t* out, size_t capacity) const;

 private:
  size_t write_audio(uint64_t counter, uint64_t send_ns, uint8_t* out, size_t capacity) const;

  VideoStreamConfig config_;
  uint32_t packets_per_frame_;
  uint64_t keyframe_interval_packets_;
};

struct PayloadStamp {
  uint64_t counter = 0;
  uint64_t send_ns = 0;
};
// Reads the stamp at the end of an RTP payload; false if too short or the magic is absent.
bool read_stamp(const uint8_t* payload, size_t len, PayloadStamp& out);

// Length of the RFC 7741 payload descriptor at payload; 0 if malformed.
size_t vp8_descriptor_size(const uint8_t* payload, size_t len);

}  // namespace weir::pktgen
