// RTCP common header (RFC 3550 section 6.4) and a walk over a compound datagram. Every
// length field is checked against the datagram before any packet is handed out: a compound
// with one lying length is rejected whole.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/byte_io.h"

namespace weir::wire {

constexpr uint8_t kRtcpTypeSenderReport = 200;
constexpr uint8_t kRtcpTypeReceiverReport = 201;
constexpr uint8_t kRtcpTypeSourceDescription = 202;
constexpr uint8_t kRtcpTypeGoodbye = 203;
constexpr uint8_t kRtcpTypeApplicationDefined = 204;
constexpr uint8_t kRtcpTypeTransportFeedback = 205;  // RTPFB, RFC 4585
constexpr uint8_t kRtcpTypePayloadFeedback = 206;    // PSFB, RFC 4585

// FMT values inside RTPFB / PSFB.
constexpr uint8_t kRtpfbFormatNack = 1;           // RFC 4585 6.2.1
constexpr uint8_t kRtpfbFormatTransportCc = 15;   // draft-holmer-rmcat-transport-wide-cc-extensions-01
constexpr uint8_t kPsfbFormatPli = 1;             // RFC 4585 6.3.1
constexpr uint8_t kPsfbFormatFir = 4;             // RFC 5104 4.3.1
constexpr uint8_t kPsfbFormatApplicationLayer = 15;  // REMB lives here

constexpr size_t kRtcpHeaderSize = 4;
constexpr size_t kRtcpMaxCount = 31;  // the 5-bit count/FMT field

struct RtcpHeader {
  bool padding = false;
  uint8_t count = 0;        // RC / SC / FMT
  uint8_t type = 0;         // PT
  size_t size = 0;          // whole packet in bytes, header and padding included
  size_t padding_size = 0;  // trailing padding octets (0 when the P bit is clear)
  // Bytes after the 4-byte header up to the padding.
  size_t body_size() const { return size - kRtcpHeaderSize - padding_size; }
};

// Parses the header at data and checks it against len: version 2, the packet it announces
// fits in len, and a P bit's count is 1..body. false otherwise.
bool parse_rtcp_header(const uint8_t* data, size_t len, RtcpHeader& out);

// Writes a header for a packet of size bytes (a multiple of 4, at least 4).
void write_rtcp_header(uint8_t* out, bool padding, uint8_t count, uint8_t type, size_t size);

// One packet of a validated compound.
struct RtcpPacket {
  RtcpHeader header;
  const uint8_t* data = nullptr;  // the packet's first header byte
  size_t size = 0;                // header.size
};

class RtcpCompoundView {
 public:
  // false unless data is a sequence of well-formed RTCP packets that ends exactly at len.
  // The first packet need not be SR/RR: reduced-size RTCP (RFC 5506) is allowed.
  static bool parse(const uint8_t* data, size_t len, RtcpCompoundView& out);

  class Iterator {
   public:
    Iterator(const uint8_t* data, size_t len, size_t offset) : data_(data), len_(len), off_(offset) {}
    RtcpPacket operator*() const {
      RtcpPacket p;
      parse_rtcp_header(data_ + off_, len_ - off_, p.header);
      p.data = data_ + off_;
      p.size = p.header.size;
      return p;
    }
    Iterator& operator++() {
      off_ += kRtcpHeaderSize + 4u * load_be16(data_ + off_ + 2);
      return *this;
    }
    bool operator==(const Iterator& o) const { return off_ == o.off_; }
    bool operator!=(const Iterator& o) const { return off_ != o.off_; }

   private:
    const uint8_t* data_;
    size_t len_;
    size_t off_;
  };

  Iterator begin() const { return Iterator(data_, size_, 0); }
  Iterator end() const { return Iterator(data_, size_, size_); }
  size_t packet_count() const { return packet_count_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t packet_count_ = 0;
};

}  // namespace weir::wire
