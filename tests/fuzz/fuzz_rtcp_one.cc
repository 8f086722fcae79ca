// One RTCP parser per target: FUZZ_RTCP_PARSER names it (set by tests/fuzz/meson.build),
// so libFuzzer's coverage feedback steers toward that parser alone.
#include "rtcp_fuzz_parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  weir::wire::fuzz::FUZZ_RTCP_PARSER(data, size);
  return 0;
}
