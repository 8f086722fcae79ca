#include "control/webrtc_transport.h"

#include <unistd.h>

#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "base/log.h"
#include "control/control_error.h"
#include "control/dataplane_stats.h"
#include "control/json_fields.h"
#include "dataplane/srtp_session.h"
#include "dataplane/udp_engine.h"
#include "dataplane/worker.h"
#include "wire/rtp_packet.h"

namespace weir::control {

using nlohmann::json;

namespace {

uint64_t now_ms() { return weir::now_ns() / 1000000; }

// mediasoup's host candidate priority: type preference 64, local preference 10000 for the
// first listen address, component 1 (contract 5.3).
constexpr uint32_t kHostCandidatePriority = (64u << 24) + (10000u << 8) + 255u;

const char* role_name(dp::DtlsRole role) {
  return role == dp::DtlsRole::client ? "client" : "server";
}

}  // namespace

WebRtcTransport::WebRtcTransport(std::string id, dp::TransportId dp_id, std::string broadcaster_id,
                                 const WebRtcTransportOptions& options, dp::Worker& worker,
                                 boost::asio::io_context& io, WebRtcTransportObserver observer)
    : Transport(std::move(id), dp_id, std::move(broadcaster_id)),
      options_(options),
      worker_(worker),
      io_(io),
      observer_(std::move(observer)),
      ports_(options.ports ? *options.ports : dp::kernel_udp_ports()),
      ice_(generate_ice_credentials(), options.consent_timeout_ms),
      dtls_(options.certificate, *this),
      dtls_timer_(io) {
  if (!options_.certificate) throw_refused("no DTLS certificate to run a WebRTC transport with");
  if (options_.shared_port) {
    port_ = worker_.shared_port();
    if (port_ == 0) throw_refused("the worker has no shared WebRTC port");
    return;
  }
  std::string error;
  if (!ports_.bind(worker_.index(), options_.listen_ip, options_.min_port, options_.max_port,
                   &binding_, &error))
    throw_refused("cannot open the transport's UDP socket: " + error);
  port_ = binding_.local.port();
}

WebRtcTransport::~WebRtcTransport() {
  if (binding_.valid()) ports_.release(binding_);
}

dp::Command WebRtcTransport::take_add_command() {
  dp::AddWebRtcTransport add{};
  add.id = dp_id();
  add.socket = binding_;  // !valid() on the shared port
  add.counters = counters_ptr();
  binding_.fd = -1;
  return add;
}

json WebRtcTransport::describe() const {
  const std::string& ip =
      options_.announced_ip.empty() ? options_.listen_ip : options_.announced_ip;
  json fingerprints = json::array();
  for (const auto& fp : options_.certificate->fingerprints()) {
    fingerprints.push_back({{"algorithm", fp.algorithm}, {"value", fp.value}});
  }
  return {{"id", id()},
          {"iceParameters",
           {{"usernameFragment", ice_.credentials().username_fragment},
            {"password", ice_.credentials().password},
            {"iceLite", true}}},
          {"iceCandidates", json::array({{{"foundation", "udpcandidate"},
                                          {"priority", kHostCandidatePriority},
                                          {"ip", ip},
                                          {"address", ip},
                                          {"protocol", "udp"},
                                          {"port", port_},
                                          {"type", "host"}}})},
          {"dtlsParameters", {{"role", "auto"}, {"fingerprints", std::move(fingerprints)}}},
          {"sctpParameters",
           {{"port", 5000},
            {"OS", sctp_options_.os},
            {"MIS", sctp_options_.mis},
            {"maxMessageSize", sctp_options_.max_message_size}}}};
}

std::vector<dp::Command> WebRtcTransport::connect(const json& body) {
  if (!body.is_object()) throw_wrong_type("body", "an object");
  const json& dtls = require_object(body, "body", "dtlsParameters");
  const std::string role = optional_string(dtls, "body.dtlsParameters", "role").value_or("auto");
  if (role != "auto" && role != "client" && role != "server") {
    throw_wrong_type("body.dtlsParameters.role", "\"auto\", \"client\" or \"server\"");
  }
  const json* list = find_field(dtls, "body.dtlsParameters", "fingerprints");
  if (!list) throw_missing("body.dtlsParameters.fingerprints");
  if (!list->is_array() || list->empty()) {
    throw_wrong_type("body.dtlsParameters.fingerprints", "a non-empty array");
  }
  std::vector<dp::DtlsFingerprint> fingerprints;
  bool usable = false;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = "body.dtlsParameters.fingerprints[" + std::to_string(i) + "]";
    const json& fp = (*list)[i];
    if (!fp.is_object()) throw_wrong_type(path, "an object");
    dp::DtlsFingerprint f{require_string(fp, path, "algorithm"), require_string(fp, path, "value")};
    usable = usable || dp::dtls_fingerprint_algorithm_supported(f.algorithm);
    fingerprints.push_back(std::move(f));
  }
  if (!usable) {
    throw_invalid(
        "invalid field body.dtlsParameters.fingerprints (no sha-1, sha-224, sha-256, sha-384 "
        "or sha-512 fingerprint)");
  }
  if (dtls_role_) throw_refused("connect() already called");
  // The peer's role decides ours (contract 5.3): its "client" makes us the server.
  dtls_role_ = role == "client" ? dp::DtlsRole::server : dp::DtlsRole::client;
  remote_fingerprints_ = std::move(fingerprints);
  LOG_INFO("control", "webrtc transport %s: connect, remote DTLS role %s, ours %s", id().c_str(),
           role.c_str(), role_name(*dtls_role_));
  maybe_start_dtls(now_ms());
  return {};
}

json WebRtcTransport::restart_ice() {
  IceCredentials fresh = generate_ice_credentials();
  json answer = {{"usernameFragment", fresh.username_fragment},
                 {"password", fresh.password},
                 {"iceLite", true}};
  ice_.restart(std::move(fresh));
  LOG_INFO("control", "webrtc transport %s: ICE restarted (new credentials)", id().c_str());
  return answer;
}

void WebRtcTransport::close() {
  dtls_timer_.cancel();
  if (sctp_) sctp_->close();  // its ABORT goes out before DTLS's close_notify
  if (dtls_.state() == dp::DtlsState::connected) dtls_.close();  // close_notify goes down now
  const bool was_closed = ice_.state() == IceState::closed;
  ice_.close();
  if (!was_closed) emit(WebRtcTransportEvent::Kind::ice_state, ice_state_name(IceState::closed));
  note_dtls_state();
}

void WebRtcTransport::on_control_packet(const dp::ControlPacket& packet) {
  const uint64_t now = now_ms();
  switch (wire::classify_packet(packet.data, packet.len)) {
    case wire::PacketClass::stun:
      on_stun(packet, now);
      break;
    case wire::PacketClass::dtls:
      dtls_.on_packet(packet.data, packet.len, now);
      note_dtls_state();
      arm_dtls_timer();
      break;
    default:
      break;  // the worker sends nothing else up
  }
}

void WebRtcTransport::on_stun(const dp::ControlPacket& packet, uint64_t now) {
  wire::StunMessageView message;
  if (!wire::StunMessageView::parse(packet.data, packet.len, message)) {
    ++stun_malformed_;
    LOG_DEBUG("control", "webrtc transport %s: malformed STUN from %s dropped", id().c_str(),
              packet.remote.to_string().c_str());
    return;
  }
  uint8_t response[IceLiteServer::kMaxResponse];
  const IceState before = ice_.state();
  const IceLiteServer::Outcome outcome =
      ice_.handle(message, packet.remote, now, response, sizeof response);
  if (outcome.response_len > 0) send(response, outcome.response_len, packet.remote);
  if (outcome.rejection != nullptr && message.message_class() == wire::StunClass::request) {
    ++ice_checks_refused_;
    LOG_DEBUG("control", "webrtc transport %s: ICE check from %s refused: %s", id().c_str(),
              packet.remote.to_string().c_str(), outcome.rejection);
  }
  if (outcome.tuple_added || outcome.selected_changed) {
    worker_.post(dp::SetIceTuple{dp_id(), packet.remote, outcome.selected_changed});
  }
  if (outcome.state_changed) {
    LOG_INFO("control", "webrtc transport %s: ICE %s -> %s", id().c_str(), ice_state_name(before),
             ice_state_name(ice_.state()));
    emit(WebRtcTransportEvent::Kind::ice_state, ice_state_name(ice_.state()));
  }
  if (outcome.selected_changed) {
    LOG_INFO("control", "webrtc transport %s: ICE selected tuple %s", id().c_str(),
             packet.remote.to_string().c_str());
    emit(WebRtcTransportEvent::Kind::ice_selected_tuple, packet.remote.to_string());
  }
  maybe_start_dtls(now);
}

void WebRtcTransport::maybe_start_dtls(uint64_t now) {
  if (!dtls_role_ || !ice_.has_selected_tuple() || dtls_.state() != dp::DtlsState::fresh) return;
  std::string error;
  if (!dtls_.start(*dtls_role_, remote_fingerprints_, now, &error)) {
    LOG_WARN("control", "webrtc transport %s: DTLS cannot start: %s", id().c_str(), error.c_str());
  }
  note_dtls_state();
  arm_dtls_timer();
}

void WebRtcTransport::arm_dtls_timer() {
  const std::optional<uint64_t> due = dtls_.next_timeout_ms();
  if (!due) {
    dtls_timer_.cancel();
    return;
  }
  const uint64_t now = now_ms();
  dtls_timer_.expires_after(std::chrono::milliseconds(*due > now ? *due - now : 0));
  dtls_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled, or the transport is gone: touch nothing
    dtls_.on_timeout(now_ms());
    note_dtls_state();
    arm_dtls_timer();
  });
}

void WebRtcTransport::check_consent(uint64_t now) {
  if (!ice_.check_consent(now)) return;
  LOG_WARN("control",
           "webrtc transport %s: ICE consent lost (no valid check for %llu ms): disconnected, "
           "media stops until the peer checks again",
           id().c_str(), static_cast<unsigned long long>(options_.consent_timeout_ms));
  worker_.post(dp::ClearIceTuples{dp_id()});
  emit(WebRtcTransportEvent::Kind::ice_state, ice_state_name(ice_.state()));
}

void WebRtcTransport::send(const uint8_t* data, size_t len, const dp::SocketAddress& to) {
  if (len == 0 || len > dp::ControlPacket::kMaxSize || !to.valid()) return;
  dp::SendControlPacket down;
  down.packet.transport = dp_id();
  down.packet.remote = to;
  down.packet.len = static_cast<uint16_t>(len);
  std::memcpy(down.packet.data, data, len);
  worker_.post(std::move(down));
}

void WebRtcTransport::on_dtls_send(const uint8_t* data, size_t len) {
  send(data, len, ice_.selected_tuple());
}

void WebRtcTransport::on_dtls_connected(const dp::DtlsSrtpKeys& keys) {
  std::string error;
  auto inbound =
      dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::inbound, keys.remote, &error);
  std::unique_ptr<dp::SrtpSession> outbound;
  if (inbound) {
    outbound = dp::SrtpSession::create(keys.suite, dp::SrtpSession::Direction::outbound, keys.local,
                                       &error);
  }
  if (!inbound || !outbound) {
    LOG_ERROR("control", "webrtc transport %s: DTLS done but SRTP cannot start: %s", id().c_str(),
              error.c_str());
  } else {
    srtp_suite_ = dp::srtp_suite_name(keys.suite);
    LOG_INFO("control", "webrtc transport %s: DTLS connected (%s), SRTP %s", id().c_str(),
             dtls_role_ ? role_name(*dtls_role_) : "?", srtp_suite_.c_str());
    worker_.post(dp::SetTransportSrtp{dp_id(), inbound.release(), outbound.release()});
  }
  // DataChannels need no SRTP: they start either way.
  start_sctp();
}

void WebRtcTransport::on_dtls_failed(const std::string& reason) {
  dtls_failure_ = reason;
  LOG_WARN("control", "webrtc transport %s: DTLS failed: %s; no media will flow", id().c_str(),
           reason.c_str());
}

void WebRtcTransport::on_dtls_closed() {
  LOG_INFO("control", "webrtc transport %s: the peer closed DTLS", id().c_str());
  // Nothing reaches the peer any more: the association ends with the DTLS connection.
  if (sctp_) sctp_->close();
}

void WebRtcTransport::note_dtls_state() {
  if (dtls_.state() == reported_dtls_state_) return;
  reported_dtls_state_ = dtls_.state();
  emit(WebRtcTransportEvent::Kind::dtls_state, dp::dtls_state_name(reported_dtls_state_));
}

void WebRtcTransport::emit(WebRtcTransportEvent::Kind kind, std::string value) {
  if (observer_) observer_(WebRtcTransportEvent{kind, id(), std::move(value)});
}

json WebRtcTransport::stats() const {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const dp::TransportCounters& c = counters();
  json item = {{"type", "webrtc-transport"},
               {"transportId", id()},
               {"timestamp", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
               {"iceRole", "controlled"},
               {"iceState", ice_state_name(ice_.state())},
               {"dtlsState", dp::dtls_state_name(dtls_.state())},
               {"sctpState", sctp_state()},
               {"availableOutgoingBitrate", c.available_bitrate_bps.get()},
               {"rembBitrate", c.remb_bps.get()},
               {"advertisedIncomingBitrate", c.advertised_bitrate_bps.get()},
               {"transportCcFeedbacksSent", c.transport_cc_feedbacks_sent.get()},
               {"controlPacketsReceived", c.control_packets_in.get()},
               {"controlPacketsSent", c.control_packets_out.get()},
               {"stunMalformed", stun_malformed_},
               {"iceChecksRefused", ice_checks_refused_}};
  item.update(transport_counters_json(c));
  if (ice_.has_selected_tuple()) {
    item["iceSelectedTuple"] = {
        {"localIp", options_.announced_ip.empty() ? options_.listen_ip : options_.announced_ip},
        {"localPort", port_},
        {"remoteIp", ice_.selected_tuple().ip()},
        {"remotePort", ice_.selected_tuple().port()},
        {"protocol", "udp"}};
  }
  if (dtls_role_) item["dtlsRole"] = role_name(*dtls_role_);
  if (!srtp_suite_.empty()) item["srtpCryptoSuite"] = srtp_suite_;
  if (!dtls_failure_.empty()) item["dtlsFailure"] = dtls_failure_;
  if (sctp_) {
    const SctpCounters& sc = sctp_->counters();
    item["sctpMessagesReceived"] = sc.messages_received;
    item["sctpBytesReceived"] = sc.bytes_received;
    item["sctpMessagesSent"] = sc.messages_sent;
    item["sctpBytesSent"] = sc.bytes_sent;
    item["sctpSendBufferFull"] = sc.send_buffer_full;
    item["sctpSendRefused"] = sc.send_refused;
    item["sctpMessagesAbandoned"] = sc.messages_abandoned;
    item["sctpOversizeDropped"] = sc.oversize_dropped;
    item["sctpDcepMalformed"] = sc.dcep_malformed;
    item["sctpDataChannelsOpened"] = sc.dcep_opens;
    item["sctpStreamResetsReceived"] = sc.stream_resets_received;
    item["sctpStreamResetsSent"] = sc.stream_resets_sent;
    item["sctpPacketsReceived"] = sc.packets_received;
    item["sctpPacketsSent"] = sc.packets_sent;
    item["sctpPacketsUndeliverable"] = sctp_packets_undeliverable_;
  }
  return json::array({item});
}

// DataChannels: one SCTP association over this transport's DTLS.
void WebRtcTransport::set_sctp_streams(uint16_t os, uint16_t mis) {
  if (sctp_) {
    LOG_WARN("control", "webrtc transport %s: SCTP streams set after the association started",
             id().c_str());
    return;
  }
  sctp_options_.os = os == 0 ? 1 : os;
  sctp_options_.mis = mis == 0 ? 1 : mis;
}

size_t WebRtcTransport::sctp_max_message_size() const { return sctp_options_.max_message_size; }

std::string WebRtcTransport::sctp_state() const {
  return sctp_ ? sctp_state_name(sctp_->state()) : sctp_state_name(SctpState::fresh);
}

void WebRtcTransport::set_sctp_message_handler(SctpMessageHandler handler) {
  sctp_handler_ = std::move(handler);
}

void WebRtcTransport::set_sctp_data_channel_open_handler(SctpDataChannelOpenHandler handler) {
  sctp_open_handler_ = std::move(handler);
}

void WebRtcTransport::set_sctp_stream_closed_handler(SctpStreamClosedHandler handler) {
  sctp_closed_handler_ = std::move(handler);
}

bool WebRtcTransport::send_sctp_message(const SctpStreamParameters& params, uint32_t ppid,
                                        const uint8_t* data, size_t len) {
  if (!sctp_) return false;
  return sctp_->send(params, ppid, data, len) == SctpAssociation::SendResult::sent;
}

void WebRtcTransport::close_sctp_stream(uint16_t stream_id) {
  if (sctp_) sctp_->reset_stream(stream_id);
}

const SctpDataChannelOpen* WebRtcTransport::sctp_data_channel(uint16_t stream_id) const {
  return sctp_ ? sctp_->data_channel(stream_id) : nullptr;
}

void WebRtcTransport::start_sctp() {
  if (sctp_) return;
  try {
    SctpAssociation::Listener& listener = *this;  // a private base: converted here
    sctp_options_.name = "webrtc transport " + id();
    sctp_ = std::make_unique<SctpAssociation>(io_, listener, sctp_options_);
  } catch (const std::exception& e) {
    LOG_ERROR("control", "webrtc transport %s: SCTP cannot start: %s; no DataChannels",
              id().c_str(), e.what());
    return;
  }
  // Both ends send INIT (RFC 8841): whichever DTLS role we have.
  sctp_->connect();
}

void WebRtcTransport::on_dtls_application_data(const uint8_t* data, size_t len) {
  if (sctp_) sctp_->on_packet(data, len);
}

void WebRtcTransport::on_sctp_packet(const uint8_t* data, size_t len) {
  if (!dtls_.send_application_data(data, len)) ++sctp_packets_undeliverable_;
}

void WebRtcTransport::on_sctp_state(SctpState state) {
  LOG_INFO("control", "webrtc transport %s: SCTP %s", id().c_str(), sctp_state_name(state));
  emit(WebRtcTransportEvent::Kind::sctp_state, sctp_state_name(state));
}

void WebRtcTransport::on_sctp_message(const SctpMessage& message) {
  if (sctp_handler_) sctp_handler_(message);
}

void WebRtcTransport::on_sctp_data_channel_open(const SctpDataChannelOpen& open) {
  if (sctp_open_handler_) sctp_open_handler_(open);
}

void WebRtcTransport::on_sctp_stream_closed(uint16_t stream_id) {
  if (sctp_closed_handler_) sctp_closed_handler_(stream_id);
}

}  // namespace weir::control
