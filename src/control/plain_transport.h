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
};

// The body of POST .../transports, validated. Throws ControlError(invalid) naming the field.
PlainTransportOptions parse_plain_transport_options(const nlohmann::json& body,
                                                    const std::string& default_listen_ip,
                                                    uint16_t min_port, uint16_t max_port,
                                                    const std::string& announced_ip);

class PlainTransport {
 public:
  // Binds the socket(s); throws ControlError(refused) when no port is free.
  PlainTransport(std::string id, dp::TransportId dp_id, std::string broadcaster_id,
                 const PlainTransportOptions& options);
  ~PlainTransport();  // closes sockets the worker never adopted
  PlainTransport(const PlainTransport&) = delete;
  PlainTransport& operator=(const PlainTransport&) = delete;

  // The command that hands the sockets to the worker; call once and post it.
  dp::AddPlainTransport take_add_command();

  // {id, ip, port, rtcpPort?, srtpParameters?}
  nlohmann::json describe() const;

  // Validates a connect body and returns the commands to post, in order. Nothing changes
  // when it throws (400 for a bad field, 500 for a second connect).
  std::vector<dp::Command> connect(const nlohmann::json& body);

  nlohmann::json stats() const;

  const std::string& id() const { return id_; }
  dp::TransportId dp_id() const { return dp_id_; }
  const std::string& broadcaster_id() const { return broadcaster_id_; }
  // The CNAME every producer of this transport gets (mediasoup's cnameForProducers).
  std::string cname_for_producer(const nlohmann::json& producer_rtcp);

 private:
  std::string id_;
  dp::TransportId dp_id_;
  std::string broadcaster_id_;
  PlainTransportOptions options_;
  int rtp_fd_ = -1;  // -1 once the worker adopted it
  int rtcp_fd_ = -1;
  uint16_t rtp_port_ = 0;
  uint16_t rtcp_port_ = 0;
  std::vector<uint8_t> local_srtp_key_;  // what weir encrypts with
  bool connected_ = false;
  dp::SocketAddress remote_rtp_;
  dp::SocketAddress remote_rtcp_;
  std::string cname_;
  std::unique_ptr<dp::TransportCounters> counters_ = std::make_unique<dp::TransportCounters>();
};

}  // namespace weir::control
