#include "control/transport.h"

#include "control/random_ids.h"

namespace weir::control {

std::string Transport::cname_for_producer(const nlohmann::json& producer_rtcp) {
  if (cname_.empty()) {
    const std::string given = producer_rtcp.value("cname", "");
    cname_ = given.empty() ? generate_cname() : given;
  }
  return cname_;
}

std::string Transport::next_mid() {
  const std::string mid = std::to_string(next_mid_);
  next_mid_ = (next_mid_ + 1) % 100000000;  // mediasoup's wrap: MIDs stay short
  return mid;
}

}  // namespace weir::control
