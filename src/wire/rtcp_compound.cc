#include "wire/rtcp_compound.h"

namespace weir::wire {

bool validate_rtcp_compound(const uint8_t* data, size_t len) {
  RtcpCompoundView compound;
  return RtcpCompoundView::parse(data, len, compound);
}

}  // namespace weir::wire
