// RTP parse, extension walk and header rewrite on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/rtp_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::wire;
  (void)classify_packet(data, size);
  RtpPacketView v;
  if (!RtpPacketView::parse(data, size, v)) return 0;
  // Touch everything the view claims is inside the packet.
  volatile uint32_t sink = v.sequence_number() ^ v.timestamp() ^ v.ssrc() ^ v.payload_type();
  for (uint8_t i = 0; i < v.csrc_count(); ++i) sink = sink ^ v.csrc(i);
  if (v.payload_size() > 0) sink = sink ^ v.payload()[v.payload_size() - 1];

  // Rewrite the way the forwarding core does: fixed header, extensions re-added.
  uint8_t out[2048];
  write_rtp_fixed_header(out, v.marker(), v.payload_type(), v.sequence_number(), v.timestamp(), 1);
  RtpExtensionWriter w(out + 12, sizeof out - 12, v.two_byte_extensions());
  v.for_each_extension([&](uint8_t id, const uint8_t* value, size_t len) {
    sink = sink ^ (len > 0 ? value[len - 1] : id);
    w.add(id, value, len);
    const uint8_t* found = nullptr;
    size_t found_len = 0;
    if (!v.find_extension(id, found, found_len)) __builtin_trap();
    // MID/RID comparison and the audio level read the same elements.
    if (!rtp_extension_equals(v, id, reinterpret_cast<const char*>(found), found_len))
      __builtin_trap();
    uint8_t level = 0;
    if (rtp_audio_level(v, id, level) && (found_len == 0 || level > 127)) __builtin_trap();
  });
  const size_t ext = w.finish();
  if (ext > 0) {
    rtp_set_extension_bit(out, true);
    RtpPacketView again;
    if (!RtpPacketView::parse(out, 12 + ext, again)) __builtin_trap();
  }
  (void)sink;
  return 0;
}
