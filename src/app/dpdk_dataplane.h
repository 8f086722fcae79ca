// --dataplane dpdk: EAL, the media port and the table of UDP ports its workers serve, set
// up from the configuration before the workers start.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "dataplane/dpdk_port.h"
#include "dataplane/udp_port_provider.h"

namespace weir::app {

struct DpdkDataplane {
  std::unique_ptr<dp::DpdkPort> port;
  std::unique_ptr<dp::DpdkUdpPorts> udp_ports;
  ~DpdkDataplane();  // closes the port, then EAL
};

// false with *error when EAL, the port or its pools cannot be set up.
bool open_dpdk_dataplane(const Config& config, DpdkDataplane* out, std::string* error);

}  // namespace weir::app
