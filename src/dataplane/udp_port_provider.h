// Where a transport's local UDP port comes from. With kernel sockets (io_uring, recvmmsg) a
// port is a bound socket that the worker's engine adopts. With DPDK the kernel never sees
// media: a port is only a number the worker's own UDP stack serves, so the control thread
// keeps the table of ports in use. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/socket_address.h"

namespace weir::dp {

// What AddPlainTransport / AddWebRtcTransport hand to the worker: a kernel socket (fd >= 0)
// or, in DPDK mode, the local address the worker's stack receives on (fd -1).
struct UdpBinding {
  int fd = -1;
  SocketAddress local;
  bool valid() const { return fd >= 0 || local.port() != 0; }
};

class UdpPortProvider {
 public:
  virtual ~UdpPortProvider() = default;
  // A free port in [min_port, max_port] on ip, for the transports of the given worker.
  virtual bool bind(uint32_t worker, const std::string& ip, uint16_t min_port, uint16_t max_port,
                    UdpBinding* out, std::string* error) = 0;
  // The transport that held the binding is gone. A socket the worker never adopted
  // (fd >= 0 still) is closed here; the worker closes adopted ones.
  virtual void release(const UdpBinding& binding) = 0;
};

// Kernel sockets (the io_uring and recvmmsg engines): binding opens a socket.
UdpPortProvider& kernel_udp_ports();

// Which DPDK worker serves a UDP port of the media IP. Ports of the rtc range are dealt out
// round robin, so that the owner is a function of the port and no worker needs a table that
// another one writes; the shared WebRTC ports are PORT+i for worker i.
struct DpdkPortPlan {
  uint16_t min_port = 40000;
  uint16_t max_port = 49999;
  uint32_t workers = 1;
  uint16_t shared_port = 0;  // 0: none
  // The worker that serves port, or workers (no one) for a port outside both sets.
  uint32_t owner(uint16_t port) const {
    if (shared_port != 0 && port >= shared_port &&
        static_cast<uint32_t>(port - shared_port) < workers)
      return static_cast<uint32_t>(port - shared_port);
    if (port < min_port || port > max_port) return workers;
    return static_cast<uint32_t>(port - min_port) % workers;
  }
};

// DPDK mode: ports are reserved in a table; worker i gets only ports it owns by the plan.
class DpdkUdpPorts final : public UdpPortProvider {
 public:
  DpdkUdpPorts(std::string ip, const DpdkPortPlan& plan);
  bool bind(uint32_t worker, const std::string& ip, uint16_t min_port, uint16_t max_port,
            UdpBinding* out, std::string* error) override;
  void release(const UdpBinding& binding) override;
  size_t in_use() const { return in_use_; }

 private:
  std::string ip_;
  DpdkPortPlan plan_;
  std::vector<bool> used_;      // by port number
  std::vector<uint32_t> next_;  // per worker: where the next search starts
  size_t in_use_ = 0;
};

}  // namespace weir::dp
