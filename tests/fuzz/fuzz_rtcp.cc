// The compound walk, then every per-type parser on each packet it hands out, and the
// writers on whatever parsed (their output must parse again).
#include "rtcp_fuzz_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir::wire;
  // Per-type parsers must be safe on raw input too, not only on what the walk vetted.
  fuzz::fuzz_every_rtcp_parser(data, size);
  for_each_rtcp_packet(data, size, [](uint8_t, uint8_t, const uint8_t* p, size_t len) {
    fuzz::fuzz_every_rtcp_parser(p, len);
  });
  return 0;
}
