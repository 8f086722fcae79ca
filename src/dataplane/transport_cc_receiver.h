// The receiving side of transport-wide congestion control
// (draft-holmer-rmcat-transport-wide-cc-extensions-01) for one transport: records the
// arrival time of every transport-wide sequence number the endpoint sends, and turns
// them into feedback packets (RTPFB FMT 15) for its sender's bandwidth estimation, every
// ~100 ms. A fixed table: no allocation after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/rtcp_transport_layer_cc.h"

namespace weir::dp {

class TransportCcReceiver {
 public:
  static constexpr size_t kCapacity = 1024;  // sequence numbers between two feedbacks

  // A packet carrying transport-wide sequence number seq arrived at arrival_ns.
  void on_packet(uint16_t seq, uint64_t arrival_ns);
  // Writes one feedback packet covering the packets recorded since the last feedback (up
  // to what fits capacity and kCapacity), then forgets them. 0 if there is nothing to
  // report. media_ssrc: an SSRC the endpoint sends (any of the transport's streams).
  size_t write_feedback(uint8_t* out, size_t capacity, uint32_t sender_ssrc, uint32_t media_ssrc);
  bool has_pending() const { return count_ > 0; }

 private:
  // Unwrapped (64-bit) sequence numbers make reordering across 65535 -> 0 safe.
  int64_t unwrap(uint16_t seq);
  struct Arrival {
    int64_t seq;
    uint64_t arrival_ns;
  };
  Arrival& at(size_t i) { return arrivals_[(head_ + i) & (kCapacity - 1)]; }
  std::array<Arrival, kCapacity> arrivals_{};  // a ring from head_, ascending by seq
  size_t head_ = 0;
  size_t count_ = 0;
  bool started_ = false;
  int64_t last_unwrapped_ = 0;
  int64_t next_base_ = -1;  // first sequence number the next feedback starts at
  uint8_t feedback_count_ = 0;
  std::array<wire::TransportCcPacketStatus, kCapacity> statuses_{};  // scratch for writing
};

}  // namespace weir::dp
