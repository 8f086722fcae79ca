// RTP (RFC 3550) with RFC 8285 header extensions: a non-owning, bounds-checked view for
// parsing and small writers for building headers. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/byte_io.h"

namespace weir::wire {

// RFC 7983 / RFC 5761: what the first bytes of a datagram on a media port are.
enum class PacketClass : uint8_t { rtp, rtcp, stun, dtls, unknown };
PacketClass classify_packet(const uint8_t* data, size_t len);

constexpr uint16_t kOneByteExtensionProfile = 0xBEDE;
constexpr uint16_t kTwoByteExtensionProfileMask = 0xFFF0;  // 0x100X
constexpr uint16_t kTwoByteExtensionProfile = 0x1000;

class RtpPacketView {
 public:
  // false if data is not a well-formed RTP packet: version != 2, shorter than its fixed
  // header + CSRCs + extension, padding count larger than the payload, or a malformed
  // RFC 8285 extension block (element running past the block).
  static bool parse(const uint8_t* data, size_t len, RtpPacketView& out);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool marker() const { return (data_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence_number() const { return load_be16(data_ + 2); }
  uint32_t timestamp() const { return load_be32(data_ + 4); }
  uint32_t ssrc() const { return load_be32(data_ + 8); }
  uint8_t csrc_count() const { return data_[0] & 0x0F; }
  uint32_t csrc(uint8_t i) const { return load_be32(data_ + 12 + 4 * i); }

  bool has_extension() const { return extension_ != nullptr; }
  uint16_t extension_profile() const { return extension_profile_; }
  bool two_byte_extensions() const {
    return (extension_profile_ & kTwoByteExtensionProfileMask) == kTwoByteExtensionProfile;
  }
  // The extension elements, without the 4-byte profile/length word; a multiple of 4.
  const uint8_t* extension_data() const { return extension_; }
  size_t extension_size() const { return extension_size_; }

  // Calls f(id, data, len) for each RFC 8285 element, in order (padding skipped). Only
  // called for one-byte (0xBEDE) or two-byte (0x100X) profiles; elements were validated
  // by parse().
  template <typename F>
  void for_each_extension(F&& f) const;
  // Finds element id; false if absent.
  bool find_extension(uint8_t id, const uint8_t*& value, size_t& len) const;

  size_t header_size() const { return header_size_; }  // fixed + CSRCs + extension
  const uint8_t* payload() const { return data_ + header_size_; }
  size_t payload_size() const { return payload_size_; }  // excludes padding
  uint8_t padding_size() const { return padding_size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  const uint8_t* extension_ = nullptr;
  size_t extension_size_ = 0;
  uint16_t extension_profile_ = 0;
  size_t header_size_ = 0;
  size_t payload_size_ = 0;
  uint8_t padding_size_ = 0;
};

template <typename F>
void RtpPacketView::for_each_extension(F&& f) const {
  if (extension_ == nullptr) return;
  const bool two = two_byte_extensions();
  if (!two && extension_profile_ != kOneByteExtensionProfile) return;
  size_t i = 0;
  while (i < extension_size_) {
    uint8_t id;
    size_t len;
    if (!two) {
      const uint8_t b = extension_[i];
      if (b == 0) {  // padding
        ++i;
        continue;
      }
      id = b >> 4;
      if (id == 15) return;  // RFC 8285: stop parsing
      len = static_cast<size_t>(b & 0x0F) + 1;
      ++i;
    } else {
      id = extension_[i];
      if (id == 0) {
        ++i;
        continue;
      }
      if (i + 1 >= extension_size_) return;
      len = extension_[i + 1];
      i += 2;
    }
    if (i + len > extension_size_) return;
    f(id, extension_ + i, len);
    i += len;
  }
}

// True if element id is present and its value is exactly the len bytes at value: how a
// packet's MID (RFC 8843) or RID / repaired RID (RFC 8852) is compared with a signaled one.
bool rtp_extension_equals(const RtpPacketView& rtp, uint8_t id, const char* value, size_t len);

// RFC 6464 ssrc-audio-level: the level (0..127, -dBov, 0 loudest) of element id, without
// the voice-activity bit; false if the element is absent or empty.
bool rtp_audio_level(const RtpPacketView& rtp, uint8_t id, uint8_t& level);

// Writes a fixed 12-byte RTP header (no CSRC, no extension bit) at out.
void write_rtp_fixed_header(uint8_t* out, bool marker, uint8_t payload_type, uint16_t sequence,
                            uint32_t timestamp, uint32_t ssrc);

// In-place edits of a packet whose fixed header is at p.
inline void rtp_set_payload_type(uint8_t* p, uint8_t pt) {
  p[1] = static_cast<uint8_t>((p[1] & 0x80) | (pt & 0x7F));
}
inline void rtp_set_sequence_number(uint8_t* p, uint16_t seq) { store_be16(p + 2, seq); }
inline void rtp_set_timestamp(uint8_t* p, uint32_t ts) { store_be32(p + 4, ts); }
inline void rtp_set_ssrc(uint8_t* p, uint32_t ssrc) { store_be32(p + 8, ssrc); }
inline void rtp_set_extension_bit(uint8_t* p, bool on) {
  p[0] = static_cast<uint8_t>(on ? (p[0] | 0x10) : (p[0] & ~0x10));
}

// Builds an RFC 8285 extension block (profile word, elements, zero padding to 4 bytes).
class RtpExtensionWriter {
 public:
  // two_byte selects the 0x1000 profile; otherwise 0xBEDE (ids 1..14, 1..16 bytes).
  RtpExtensionWriter(uint8_t* out, size_t capacity, bool two_byte)
      : out_(out), capacity_(capacity), two_byte_(two_byte) {}
  // false (and nothing written) if the element does not fit the form or the buffer.
  bool add(uint8_t id, const uint8_t* value, size_t len);
  // Total bytes of the block including the 4-byte profile word; 0 if nothing was added.
  size_t finish();

 private:
  uint8_t* out_;
  size_t capacity_;
  bool two_byte_;
  size_t used_ = 4;  // the profile/length word comes first
  bool any_ = false;
};

}  // namespace weir::wire
