// The Data Channel Establishment Protocol (RFC 8832): the two messages a peer sends on a
// DataChannel's SCTP stream (PPID 50) to open a channel without negotiating it in SDP, and
// the DataChannel PPIDs (RFC 8831 section 8). Pure parsing and writing on caller memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weir::wire {

// SCTP payload protocol identifiers of WebRTC DataChannels. The "empty" ones carry one
// byte that is not part of the message (SCTP cannot send an empty user message).
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringEmpty = 56;
inline constexpr uint32_t kPpidBinaryEmpty = 57;

inline constexpr uint8_t kDcepMessageAck = 0x02;
inline constexpr uint8_t kDcepMessageOpen = 0x03;

// RFC 8832 section 5.1: the high bit says unordered, the low bits the reliability.
enum class DcepChannelType : uint8_t {
  reliable = 0x00,
  reliable_unordered = 0x80,
  partial_reliable_rexmit = 0x01,
  partial_reliable_rexmit_unordered = 0x81,
  partial_reliable_timed = 0x02,
  partial_reliable_timed_unordered = 0x82,
};

// A DATA_CHANNEL_OPEN. label and protocol point into the parsed bytes (or, for the
// writer, into the caller's strings).
struct DcepOpen {
  DcepChannelType channel_type = DcepChannelType::reliable;
  uint16_t priority = 0;
  // Retransmissions (rexmit types) or milliseconds (timed types); ignored (0) for reliable.
  uint32_t reliability_parameter = 0;
  std::string_view label;
  std::string_view protocol;

  bool ordered() const { return (static_cast<uint8_t>(channel_type) & 0x80) == 0; }
  bool limited_retransmits() const { return (static_cast<uint8_t>(channel_type) & 0x7f) == 0x01; }
  bool limited_lifetime() const { return (static_cast<uint8_t>(channel_type) & 0x7f) == 0x02; }
};

inline constexpr size_t kDcepOpenHeaderSize = 12;  // before the label and the protocol

// The message type byte, or 0 for an empty buffer (no message type is 0).
uint8_t dcep_message_type(const uint8_t* data, size_t len);

// A DATA_CHANNEL_OPEN exactly filling len bytes (its label and protocol lengths must add
// up to the rest); false for anything else, including unknown channel types.
bool parse_dcep_open(const uint8_t* data, size_t len, DcepOpen& out);
// A DATA_CHANNEL_ACK: the single type byte (RFC 8832 section 5.2).
bool is_dcep_ack(const uint8_t* data, size_t len);

// The encoded size of open, or 0 if a label or protocol is longer than 65535 bytes.
size_t dcep_open_size(const DcepOpen& open);
// Writes open into out; returns the bytes written, 0 if it does not fit in cap.
size_t write_dcep_open(const DcepOpen& open, uint8_t* out, size_t cap);
// Writes a DATA_CHANNEL_ACK; returns 1, or 0 if cap is 0.
size_t write_dcep_ack(uint8_t* out, size_t cap);

}  // namespace weir::wire
