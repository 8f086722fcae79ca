// The control side of a PlainTransport: its UDP socket(s), its SRTP keys, its remote
// address once connected, and the counters its dataplane twin writes. It validates the
// create and connect bodies and turns them into dataplane commands; the Room posts them.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/transport.h"
#include "dataplane/counters.h"
#include "dataplane/socket_address.h"
#include "dataplane/srtp_session.h"
#include "dataplane/worker_commands.h"

namespace weir::control {

struct PlainTransportOptions {
  std::string listen_ip;
  std::optional<uint16_t> port;  // exact port, else the first free one in the range
  uint16_t min_port = 40000;
  uint16_t max_port = 49999;
  std::string announced_ip;  // empty: announce listen_ip
  bool comedia = true;
  bool rtcp_mux = false;
  std::optional<dp::SrtpSuite> srtp_suite;  // SRTP enabled when set
  dp::UdpPortProvider* ports = nullptr;      // null: kernel sockets
  uint32_t worker = 0;                       // the worker that will serve the ports
};

// The body of POST .../transports, validated. Throws ControlError(invalid) naming the field.
PlainTransportOptions parse_plain_transport_options(const nlohmann::json& body,
                                                    const std::string& default_listen_ip,
                                                    uint16_t min_port, uint16_t max_port,
                                                    const std::string& announced_ip);

class PlainTransport : public Transport {
 public:
  // Binds the socket(s); throws ControlError(refused) when no port is free.
  PlainTransport(std::string id, dp::TransportId dp_id, std::string broadcaster_id,
                 const PlainTransportOptions& options);
  ~PlainTransport() override;  // closes sockets the worker never adopted

  bool is_webrtc() const override { return false; }
  // AddPlainTransport: hands the sockets to the worker.
  dp::Command take_add_command() override;
  // {id, ip, port, rtcpPort?, srtpParameters?}
  nlohmann::json describe() const override;
  // {srtpParameters?} and, without comedia, {ip, port, rtcpPort?}.
  std::vector<dp::Command> connect(const nlohmann::json& body) override;
  nlohmann::json stats() const override;

 private:
  PlainTransportOptions options_;
  dp::UdpPortProvider& ports_;
  dp::UdpBinding rtp_;   // fd -1 once the worker adopted the socket
  dp::UdpBinding rtcp_;
  uint16_t rtp_port_ = 0;
  uint16_t rtcp_port_ = 0;
  std::vector<uint8_t> local_srtp_key_;  // what weir encrypts with
  bool connected_ = false;
  dp::SocketAddress remote_rtp_;
  dp::SocketAddress remote_rtcp_;
};

}  // namespace weir::control
