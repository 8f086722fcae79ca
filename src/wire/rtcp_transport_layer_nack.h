// Generic NACK (RFC 4585 6.2.1): RTPFB FMT 1, FCI entries of PID + bitmask of lost packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/rtcp_header.h"

namespace weir::wire {

struct NackPair {
  uint16_t packet_id = 0;     // PID: the first lost sequence number
  uint16_t lost_bitmask = 0;  // BLP: bit i set = PID + i + 1 lost too

  bool operator==(const NackPair&) const = default;
};

class RtcpTransportLayerNackView {
 public:
  static bool parse(const uint8_t* data, size_t len, RtcpTransportLayerNackView& out);

  uint32_t sender_ssrc() const { return load_be32(data_ + 4); }
  uint32_t media_ssrc() const { return load_be32(data_ + 8); }
  size_t pair_count() const { return pair_count_; }
  NackPair pair(size_t i) const {
    const uint8_t* p = data_ + kFixedSize + 4 * i;
    return NackPair{load_be16(p), load_be16(p + 2)};
  }
  // Calls f(uint16_t seq) for every sequence number reported lost, in packet order.
  template <typename F>
  void for_each_lost(F&& f) const {
    for (size_t i = 0; i < pair_count_; ++i) {
      const NackPair np = pair(i);
      f(np.packet_id);
      for (unsigned bit = 0; bit < 16; ++bit)
        if ((np.lost_bitmask >> bit) & 1u) f(static_cast<uint16_t>(np.packet_id + bit + 1));
    }
  }
  // Fills out with the lost sequence numbers; returns how many, or 0 if out is too small.
  size_t lost_sequence_numbers(std::span<uint16_t> out) const;

  static constexpr size_t kFixedSize = 12;

 private:
  const uint8_t* data_ = nullptr;
  size_t pair_count_ = 0;
};

// Packs sorted (ascending, wrap-aware not required) sequence numbers into PID/BLP pairs.
// Returns pairs written, or 0 if out is too small.
size_t nack_pairs_from_sequence_numbers(std::span<const uint16_t> seqs, std::span<NackPair> out);

// Bytes written, or 0 if it does not fit capacity (or no pairs are given).
size_t write_rtcp_transport_layer_nack(uint8_t* out, size_t capacity, uint32_t sender_ssrc,
                                       uint32_t media_ssrc, std::span<const NackPair> pairs);

}  // namespace weir::wire
