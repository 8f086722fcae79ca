// What arrived on one of pktgen's WebRTC sockets, told apart by its first byte (RFC 7983):
// ICE's STUN, DTLS records, and SRTP or SRTCP (RFC 5761 by the second byte). Plain-mode
// sockets see only SRTP and SRTCP, so the same function serves both modes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/rtp_packet.h"

namespace weir::pktgen {

enum class DatagramKind : uint8_t { stun, dtls, srtp, srtcp, other };

inline DatagramKind classify_datagram(const uint8_t* data, size_t len) {
  switch (wire::classify_packet(data, len)) {
    case wire::PacketClass::stun:
      return DatagramKind::stun;
    case wire::PacketClass::dtls:
      return DatagramKind::dtls;
    case wire::PacketClass::rtp:
      return DatagramKind::srtp;
    case wire::PacketClass::rtcp:
      return DatagramKind::srtcp;
    case wire::PacketClass::unknown:
      break;
  }
  return DatagramKind::other;
}

}  // namespace weir::pktgen
