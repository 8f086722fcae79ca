// DCEP parse on arbitrary bytes (a DataChannel stream's PPID 50 messages come straight
// from the peer), and the writer re-encoding whatever parsed to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire/dcep_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::wire;
  volatile uint8_t sink = dcep_message_type(data, size);
  if (is_dcep_ack(data, size) && (size != 1 || data[0] != kDcepMessageAck)) __builtin_trap();
  DcepOpen open;
  if (!parse_dcep_open(data, size, open)) return 0;
  // The views must lie inside the input.
  for (char c : open.label) sink = sink ^ static_cast<uint8_t>(c);
  for (char c : open.protocol) sink = sink ^ static_cast<uint8_t>(c);
  if (open.label.size() + open.protocol.size() + kDcepOpenHeaderSize != size) __builtin_trap();
  if (open.limited_retransmits() && open.limited_lifetime()) __builtin_trap();

  static uint8_t out[kDcepOpenHeaderSize + 2 * 65535];
  const size_t n = write_dcep_open(open, out, sizeof out);
  if (n != size || std::memcmp(out, data, size) != 0) __builtin_trap();
  (void)sink;
  return 0;
}
