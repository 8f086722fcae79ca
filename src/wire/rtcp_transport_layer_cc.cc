#include "wire/rtcp_transport_layer_cc.h"

namespace weir::wire {

namespace {

// Packet status symbols (draft section 3.1.1).
constexpr uint8_t kNotReceived = 0;
constexpr uint8_t kSmallDelta = 1;
constexpr uint8_t kLargeDelta = 2;
constexpr uint8_t kReserved = 3;

constexpr size_t kMaxRunLength = 0x1FFF;
constexpr size_t kOneBitCapacity = 14;
constexpr size_t kTwoBitCapacity = 7;

uint8_t symbol_for(const TransportCcPacketStatus& s, int32_t& ticks) {
  if (!s.received) return kNotReceived;
  ticks = s.delta_us / kTransportCcDeltaTickUs;
  if (s.delta_us < 0 && s.delta_us % kTransportCcDeltaTickUs != 0) --ticks;  // floor
  return (ticks >= 0 && ticks <= 255) ? kSmallDelta : kLargeDelta;
}

uint8_t symbol_of(const TransportCcPacketStatus& s) {
  int32_t ticks = 0;
  return symbol_for(s, ticks);
}

}  // namespace

bool parse_rtcp_transport_cc(const uint8_t* data, size_t len, TransportCcFeedback& feedback,
                             std::span<TransportCcPacketStatus> out, size_t& count) {
  RtcpHeader h;
  if (!parse_rtcp_header(data, len, h)) return false;
  if (h.type != kRtcpTypeTransportFeedback || h.count != kRtpfbFormatTransportCc) return false;
  const size_t end = kRtcpHeaderSize + h.body_size();
  if (end < kTransportCcFixedSize) return false;

  TransportCcFeedback fb;
  fb.sender_ssrc = load_be32(data + 4);
  fb.media_ssrc = load_be32(data + 8);
  fb.base_sequence = load_be16(data + 12);
  fb.status_count = load_be16(data + 14);
  fb.reference_time = load_be24(data + 16);
  fb.feedback_count = data[19];
  const size_t total = fb.status_count;
  if (total > out.size()) return false;

  // Pass 1: the status chunks, one symbol per packet, kept in delta_us for pass 2.
  size_t off = kTransportCcFixedSize;
  size_t n = 0;
  while (n < total) {
    if (end - off < 2) return false;
    const uint16_t chunk = load_be16(data + off);
    off += 2;
    if ((chunk & 0x8000) == 0) {  // run-length chunk
      const uint8_t symbol = (chunk >> 13) & 0x03;
      if (symbol == kReserved) return false;
      size_t run = chunk & kMaxRunLength;
      if (run > total - n) run = total - n;
      for (size_t i = 0; i < run; ++i) out[n++].delta_us = symbol;
    } else if ((chunk & 0x4000) == 0) {  // status vector, 14 one-bit symbols
      for (size_t i = 0; i < kOneBitCapacity && n < total; ++i)
        out[n++].delta_us = (chunk >> (13 - i)) & 0x01;
    } else {  // status vector, 7 two-bit symbols
      for (size_t i = 0; i < kTwoBitCapacity && n < total; ++i) {
        const uint8_t symbol = (chunk >> (12 - 2 * i)) & 0x03;
        if (symbol == kReserved) return false;
        out[n++].delta_us = symbol;
      }
    }
  }

  // Pass 2: the receive deltas, in packet order, after all chunks.
  for (size_t i = 0; i < total; ++i) {
    TransportCcPacketStatus& s = out[i];
    const int32_t symbol = s.delta_us;
    s.sequence = static_cast<uint16_t>(fb.base_sequence + i);
    s.received = symbol != kNotReceived;
    if (symbol == kSmallDelta) {
      if (end - off < 1) return false;
      s.delta_us = static_cast<int32_t>(data[off]) * kTransportCcDeltaTickUs;
      off += 1;
    } else if (symbol == kLargeDelta) {
      if (end - off < 2) return false;
      s.delta_us = static_cast<int32_t>(static_cast<int16_t>(load_be16(data + off))) *
                   kTransportCcDeltaTickUs;
      off += 2;
    } else {
      s.delta_us = 0;
    }
  }
  feedback = fb;
  count = total;
  return true;
}

size_t write_rtcp_transport_cc(uint8_t* out, size_t capacity, const TransportCcFeedback& feedback,
                               std::span<const TransportCcPacketStatus> statuses) {
  const size_t total = statuses.size();
  if (out == nullptr || total > 0xFFFF) return 0;

  // Check sequences and deltas, and count delta bytes, before writing anything.
  size_t delta_bytes = 0;
  for (size_t i = 0; i < total; ++i) {
    const TransportCcPacketStatus& s = statuses[i];
    if (s.sequence != static_cast<uint16_t>(feedback.base_sequence + i)) return 0;
    int32_t ticks = 0;
    const uint8_t symbol = symbol_for(s, ticks);
    if (symbol == kSmallDelta) delta_bytes += 1;
    if (symbol == kLargeDelta) {
      if (ticks < -32768 || ticks > 32767) return 0;
      delta_bytes += 2;
    }
  }

  // Chunks are written first, straight into out, once their count is known to fit.
  size_t off = kTransportCcFixedSize;
  size_t i = 0;
  while (i < total) {
    if (capacity < off + 2) return 0;
    const uint8_t first = symbol_of(statuses[i]);
    size_t run = 1;
    while (i + run < total && run < kMaxRunLength && symbol_of(statuses[i + run]) == first) ++run;
    uint16_t chunk;
    if (i + run == total || run >= kOneBitCapacity) {
      chunk = static_cast<uint16_t>((first << 13) | run);
      i += run;
    } else {
      const size_t window = total - i < kOneBitCapacity ? total - i : kOneBitCapacity;
      bool large = false;
      for (size_t k = 0; k < window; ++k) large = large || symbol_of(statuses[i + k]) == kLargeDelta;
      if (!large) {
        chunk = 0x8000;
        for (size_t k = 0; k < window; ++k)
          chunk = static_cast<uint16_t>(chunk | (symbol_of(statuses[i + k]) << (13 - k)));
        i += window;
      } else {
        const size_t n = total - i < kTwoBitCapacity ? total - i : kTwoBitCapacity;
        chunk = 0xC000;
        for (size_t k = 0; k < n; ++k)
          chunk = static_cast<uint16_t>(chunk | (symbol_of(statuses[i + k]) << (12 - 2 * k)));
        i += n;
      }
    }
    store_be16(out + off, chunk);
    off += 2;
  }

  const size_t unpadded = off + delta_bytes;
  const size_t size = (unpadded + 3) & ~size_t{3};
  if (size > capacity || size > 4u * 0x10000) return 0;
  for (const TransportCcPacketStatus& s : statuses) {
    int32_t ticks = 0;
    const uint8_t symbol = symbol_for(s, ticks);
    if (symbol == kSmallDelta) {
      out[off++] = static_cast<uint8_t>(ticks);
    } else if (symbol == kLargeDelta) {
      store_be16(out + off, static_cast<uint16_t>(static_cast<int16_t>(ticks)));
      off += 2;
    }
  }
  const size_t padding = size - unpadded;
  while (off < size) out[off++] = 0;
  if (padding > 0) out[size - 1] = static_cast<uint8_t>(padding);

  write_rtcp_header(out, padding > 0, kRtpfbFormatTransportCc, kRtcpTypeTransportFeedback, size);
  store_be32(out + 4, feedback.sender_ssrc);
  store_be32(out + 8, feedback.media_ssrc);
  store_be16(out + 12, feedback.base_sequence);
  store_be16(out + 14, static_cast<uint16_t>(total));
  store_be24(out + 16, feedback.reference_time & 0xFFFFFF);
  out[19] = feedback.feedback_count;
  return size;
}

}  // namespace weir::wire
