// What the forwarding core needs of a decrypted RTCP datagram: is it sane, and what packets
// does it hold.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/rtcp_header.h"

namespace weir::wire {

// True if every packet header is sane: version 2, lengths add up exactly to len, padding
// counts in range. The first packet need not be SR/RR (RFC 5506 reduced-size RTCP).
bool validate_rtcp_compound(const uint8_t* data, size_t len);

// Validates the whole compound first, then calls
// f(uint8_t packet_type, uint8_t fmt_or_count, const uint8_t* packet, size_t packet_len)
// for each packet. Returns false (and calls f for nothing) if the compound is malformed.
template <typename F>
bool for_each_rtcp_packet(const uint8_t* data, size_t len, F&& f) {
  RtcpCompoundView compound;
  if (!RtcpCompoundView::parse(data, len, compound)) return false;
  for (const RtcpPacket& p : compound) f(p.header.type, p.header.count, p.data, p.size);
  return true;
}

}  // namespace weir::wire
