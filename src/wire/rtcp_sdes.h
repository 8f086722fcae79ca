// RTCP source description (RFC 3550 6.5): chunks of SSRC + items, CNAME above all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "wire/rtcp_header.h"

namespace weir::wire {

constexpr uint8_t kSdesEnd = 0;
constexpr uint8_t kSdesCname = 1;
constexpr uint8_t kSdesName = 2;
constexpr uint8_t kSdesEmail = 3;
constexpr uint8_t kSdesPhone = 4;
constexpr uint8_t kSdesLocation = 5;
constexpr uint8_t kSdesTool = 6;
constexpr uint8_t kSdesNote = 7;
constexpr uint8_t kSdesPrivate = 8;

class RtcpSdesView {
 public:
  // Validates every chunk: SC chunks, each SSRC + items ended by a null octet, padded to
  // 32 bits, all inside the packet.
  static bool parse(const uint8_t* data, size_t len, RtcpSdesView& out);

  uint8_t chunk_count() const { return chunk_count_; }
  // Calls f(uint32_t ssrc, uint8_t item_type, std::string_view text) for every item.
  template <typename F>
  void for_each_item(F&& f) const;
  // The CNAME of the first chunk that has one; false if none.
  bool first_cname(uint32_t& ssrc, std::string_view& cname) const;

 private:
  const uint8_t* data_ = nullptr;
  uint8_t chunk_count_ = 0;
};

template <typename F>
void RtcpSdesView::for_each_item(F&& f) const {
  size_t off = kRtcpHeaderSize;
  for (uint8_t c = 0; c < chunk_count_; ++c) {
    const uint32_t ssrc = load_be32(data_ + off);
    off += 4;
    while (data_[off] != kSdesEnd) {
      const uint8_t type = data_[off];
      const uint8_t len = data_[off + 1];
      f(ssrc, type, std::string_view(reinterpret_cast<const char*>(data_ + off + 2), len));
      off += 2u + len;
    }
    off = (off + 4) & ~size_t{3};  // the END octet, then up to the next 32-bit boundary
  }
}

struct RtcpSdesItem {
  uint8_t type = kSdesCname;
  std::string_view text;  // at most 255 bytes
};

struct RtcpSdesChunk {
  uint32_t ssrc = 0;
  std::span<const RtcpSdesItem> items;
};

// Bytes written, or 0 if it does not fit, an item is END/too long, or > 31 chunks.
size_t write_rtcp_sdes(uint8_t* out, size_t capacity, std::span<const RtcpSdesChunk> chunks);
// The common case: one chunk, one CNAME.
size_t write_rtcp_sdes_cname(uint8_t* out, size_t capacity, uint32_t ssrc, std::string_view cname);

}  // namespace weir::wire
