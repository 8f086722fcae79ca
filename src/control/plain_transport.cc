#include "control/plain_transport.h"

#include <unistd.h>

#include <chrono>

#include "control/base64.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/json_fields.h"
#include "control/random_ids.h"
#include "dataplane/udp_engine.h"

namespace weir::control {

using nlohmann::json;

namespace {

constexpr const char* kDefaultSuite = "AES_CM_128_HMAC_SHA1_80";

dp::SrtpSuite parse_suite(const std::string& name, const std::string& path) {
  auto suite = dp::srtp_suite_from_name(name);
  if (!suite) throw_invalid("invalid field " + path + " (unknown crypto suite \"" + name + "\")");
  return *suite;
}

dp::SocketAddress parse_address(const std::string& ip, int64_t port, const std::string& path) {
  auto address = dp::SocketAddress::parse(ip, static_cast<uint16_t>(port));
  if (!address) throw_invalid("invalid field " + path + " (not an IP address)");
  return *address;
}

}  // namespace

PlainTransportOptions parse_plain_transport_options(const json& body,
                                                    const std::string& default_listen_ip,
                                                    uint16_t min_port, uint16_t max_port,
                                                    const std::string& announced_ip) {
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const std::string type = require_string(body, "body", "type");
  if (type != "plain") throw_wrong_type("body.type", "\"plain\"");

  PlainTransportOptions options;
  options.comedia = optional_bool(body, "body", "comedia", true);
  options.rtcp_mux = optional_bool(body, "body", "rtcpMux", false);
  const bool srtp = optional_bool(body, "body", "enableSrtp", false);
  const std::string suite =
      optional_string(body, "body", "srtpCryptoSuite").value_or(kDefaultSuite);
  const dp::SrtpSuite parsed_suite = parse_suite(suite, "body.srtpCryptoSuite");
  if (srtp) options.srtp_suite = parsed_suite;
  options.listen_ip = optional_string(body, "body", "listenIp").value_or(default_listen_ip);
  if (!dp::SocketAddress::parse(options.listen_ip, 0)) {
    throw_invalid("invalid field body.listenIp (not an IP address)");
  }
  if (auto port = optional_integer(body, "body", "port", 1, 65535)) {
    options.port = static_cast<uint16_t>(*port);
  }
  options.min_port = min_port;
  options.max_port = max_port;
  options.announced_ip = announced_ip;
  return options;
}

PlainTransport::PlainTransport(std::string id, dp::TransportId dp_id, std::string broadcaster_id,
                               const PlainTransportOptions& options)
    : Transport(std::move(id), dp_id, std::move(broadcaster_id)),
      options_(options),
      ports_(options.ports ? *options.ports : dp::kernel_udp_ports()) {
  std::string error;
  const uint16_t rtp_min = options_.port.value_or(options_.min_port);
  const uint16_t rtp_max = options_.port.value_or(options_.max_port);
  if (!ports_.bind(options_.worker, options_.listen_ip, rtp_min, rtp_max, &rtp_, &error))
    throw_refused("cannot open the RTP socket: " + error);
  rtp_port_ = rtp_.local.port();
  if (!options_.rtcp_mux) {
    if (!ports_.bind(options_.worker, options_.listen_ip, options_.min_port, options_.max_port,
                     &rtcp_, &error)) {
      ports_.release(rtp_);
      rtp_ = {};
      throw_refused("cannot open the RTCP socket: " + error);
    }
    rtcp_port_ = rtcp_.local.port();
  }
  if (options_.srtp_suite) {
    local_srtp_key_.resize(dp::srtp_master_length(*options_.srtp_suite));
    random_bytes(local_srtp_key_);
  }
}

PlainTransport::~PlainTransport() {
  if (rtp_.valid()) ports_.release(rtp_);
  if (rtcp_.valid()) ports_.release(rtcp_);
}

dp::Command PlainTransport::take_add_command() {
  dp::AddPlainTransport add{};
  add.id = dp_id();
  add.rtp = rtp_;
  add.rtcp = rtcp_;
  add.comedia = options_.comedia;
  add.srtp = options_.srtp_suite.has_value();
  add.counters = counters_ptr();
  rtp_.fd = -1;  // the worker's engine owns the sockets from now on
  rtcp_.fd = -1;
  return add;
}

json PlainTransport::describe() const {
  json answer = {{"id", id()},
                 {"ip", options_.announced_ip.empty() ? options_.listen_ip : options_.announced_ip},
                 {"port", rtp_port_}};
  if (!options_.rtcp_mux) answer["rtcpPort"] = rtcp_port_;
  if (options_.srtp_suite) {
    answer["srtpParameters"] = {{"cryptoSuite", dp::srtp_suite_name(*options_.srtp_suite)},
                                {"keyBase64", base64_encode(local_srtp_key_)}};
  }
  return answer;
}

std::vector<dp::Command> PlainTransport::connect(const json& body) {
  if (!body.is_object()) throw_wrong_type("body", "an object");
  if (connected_) throw_refused("connect() already called");

  std::vector<dp::Command> commands;
  std::unique_ptr<dp::SrtpSession> inbound, outbound;
  const json* srtp = find_field(body, "body", "srtpParameters");
  if (srtp && !options_.srtp_suite) {
    throw_invalid("invalid field body.srtpParameters (SRTP is not enabled on this transport)");
  }
  if (options_.srtp_suite) {
    if (!srtp) throw_missing("body.srtpParameters");
    if (!srtp->is_object()) throw_wrong_type("body.srtpParameters", "an object");
    const std::string suite_name = require_string(*srtp, "body.srtpParameters", "cryptoSuite");
    const dp::SrtpSuite suite = parse_suite(suite_name, "body.srtpParameters.cryptoSuite");
    if (suite != *options_.srtp_suite) {
      throw_invalid(std::string("invalid field body.srtpParameters.cryptoSuite (must be \"") +
                    dp::srtp_suite_name(*options_.srtp_suite) + "\", the transport's suite)");
    }
    const std::string key_text = require_string(*srtp, "body.srtpParameters", "keyBase64");
    auto key = base64_decode(key_text);
    if (!key) throw_invalid("invalid field body.srtpParameters.keyBase64 (not base64)");
    const size_t expected = dp::srtp_master_length(suite);
    if (key->size() != expected) {
      throw_invalid("invalid field body.srtpParameters.keyBase64 (must decode to " +
                    std::to_string(expected) + " bytes, got " + std::to_string(key->size()) + ")");
    }
    std::string error;
    inbound = dp::SrtpSession::create(suite, dp::SrtpSession::Direction::inbound, *key, &error);
    if (inbound) {
      outbound = dp::SrtpSession::create(suite, dp::SrtpSession::Direction::outbound,
                                         local_srtp_key_, &error);
    }
    if (!inbound || !outbound) throw_refused("cannot create the SRTP sessions: " + error);
  }

  dp::SocketAddress remote_rtp, remote_rtcp;
  if (options_.comedia) {
    for (const char* key : {"ip", "port", "rtcpPort"}) {
      if (find_field(body, "body", key)) {
        throw_invalid(std::string("invalid field body.") + key +
                      " (not allowed with comedia: the remote is learned from its packets)");
      }
    }
  } else {
    const std::string ip = require_string(body, "body", "ip");
    const int64_t port = require_integer(body, "body", "port", 1, 65535);
    remote_rtp = parse_address(ip, port, "body.ip");
    if (!options_.rtcp_mux) {
      if (auto rtcp_port = optional_integer(body, "body", "rtcpPort", 1, 65535)) {
        remote_rtcp = parse_address(ip, *rtcp_port, "body.ip");
      }
    }
  }

  // Keys first: with SRTP the worker drops everything until they are there anyway.
  if (inbound)
    commands.emplace_back(dp::SetTransportSrtp{dp_id(), inbound.release(), outbound.release()});
  if (!options_.comedia)
    commands.emplace_back(dp::ConnectTransport{dp_id(), remote_rtp, remote_rtcp});
  connected_ = true;
  remote_rtp_ = remote_rtp;
  remote_rtcp_ = remote_rtcp;
  return commands;
}

json PlainTransport::stats() const {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  json tuple = {{"localIp", options_.listen_ip}, {"localPort", rtp_port_}, {"protocol", "udp"}};
  if (remote_rtp_.valid()) {
    tuple["remoteIp"] = remote_rtp_.ip();
    tuple["remotePort"] = remote_rtp_.port();
  }
  const dp::TransportCounters& c = counters();
  json item = {{"type", "plain-rtp-transport"},
               {"transportId", id()},
               {"timestamp", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
               {"tuple", tuple},
               {"comedia", options_.comedia},
               {"rtcpMux", options_.rtcp_mux}};
  item.update(transport_counters_json(c));
  if (!options_.rtcp_mux) {
    json rtcp_tuple = {
        {"localIp", options_.listen_ip}, {"localPort", rtcp_port_}, {"protocol", "udp"}};
    if (remote_rtcp_.valid()) {
      rtcp_tuple["remoteIp"] = remote_rtcp_.ip();
      rtcp_tuple["remotePort"] = remote_rtcp_.port();
    }
    item["rtcpTuple"] = rtcp_tuple;
  }
  if (options_.srtp_suite) item["srtpCryptoSuite"] = dp::srtp_suite_name(*options_.srtp_suite);
  return json::array({item});
}

}  // namespace weir::control
