// The control side of a WebRtcTransport (mediasoup's name): ICE-lite and DTLS-SRTP for one
// endpoint, on the control thread. The worker passes up every STUN and DTLS datagram of
// the transport; this class answers ICE checks, tells the worker which tuples are valid and
// where media goes, runs the DTLS handshake (its records go back down in order with the
// commands) and installs the SRTP keys it yields; once DTLS is up it runs the SCTP
// association of the transport's DataChannels over it. States and their events follow
// mediasoup: iceState new/connected/completed/disconnected/closed, dtlsState and
// sctpState new/connecting/connected/failed/closed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/ice_lite_server.h"
#include "control/sctp_association.h"
#include "control/transport.h"
#include "dataplane/dtls_transport.h"
#include "dataplane/socket_address.h"
#include "dataplane/udp_port_provider.h"

namespace weir::dp {
class Worker;
}

namespace weir::control {

struct WebRtcTransportOptions {
  std::string listen_ip = "127.0.0.1";
  std::string announced_ip;  // empty: announce listen_ip
  uint16_t min_port = 40000;
  uint16_t max_port = 49999;
  bool shared_port = false;  // WebRtcServer mode: the worker's shared port, no own socket
  uint64_t consent_timeout_ms = 30000;
  std::shared_ptr<const dp::DtlsCertificate> certificate;
  dp::UdpPortProvider* ports = nullptr;  // null: kernel sockets
};

using SctpDataChannelOpenHandler = std::function<void(const SctpDataChannelOpen&)>;
using SctpStreamClosedHandler = std::function<void(uint16_t stream_id)>;

// Something happened to a WebRtcTransport: what changed and its new value.
struct WebRtcTransportEvent {
  enum class Kind : uint8_t { ice_state, ice_selected_tuple, dtls_state, sctp_state };
  Kind kind;
  std::string transport_id;
  std::string value;  // the state's name, or the tuple as "ip:port"
};
using WebRtcTransportObserver = std::function<void(const WebRtcTransportEvent&)>;

class WebRtcTransport : public Transport,
                        private dp::DtlsTransport::Listener,
                        private SctpAssociation::Listener {
 public:
  // Binds its socket (unless shared); throws ControlError(refused) when no port is free.
  WebRtcTransport(std::string id, dp::TransportId dp_id, std::string broadcaster_id,
                  const WebRtcTransportOptions& options, dp::Worker& worker,
                  boost::asio::io_context& io, WebRtcTransportObserver observer);
  ~WebRtcTransport() override;

  bool is_webrtc() const override { return true; }
  dp::Command take_add_command() override;  // AddWebRtcTransport
  // {id, iceParameters, iceCandidates, dtlsParameters, sctpParameters} (contract 5.3)
  nlohmann::json describe() const override;
  // {dtlsParameters: {role?, fingerprints}}: the peer's role decides ours (its "client"
  // makes us the DTLS server; "server" or "auto" the client). DTLS starts once ICE has a
  // tuple. Returns no commands: the keys follow the handshake.
  std::vector<dp::Command> connect(const nlohmann::json& body) override;
  nlohmann::json stats() const override;
  // Sends close_notify if DTLS is up; states become closed.
  void close() override;

  // New ICE credentials; media keeps flowing on the selected tuple meanwhile.
  nlohmann::json restart_ice();

  // A STUN or DTLS datagram the worker passed up for this transport.
  void on_control_packet(const dp::ControlPacket& packet);
  // Periodic (about once a second): consent freshness.
  void check_consent(uint64_t now_ms);

  // DataChannels: SCTP (usrsctp) over this transport's DTLS, always enabled (field notes:
  // clients may not send sctpCapabilities). OS/MIS from the peer's sctpCapabilities
  // (1024 each by default; only before DTLS connects); describe() carries sctpParameters
  // {port: 5000, OS, MIS, maxMessageSize}. The association starts when DTLS connects.
  void set_sctp_streams(uint16_t os, uint16_t mis);
  size_t sctp_max_message_size() const;
  // "new", "connecting", "connected", "failed", "closed" (an sctp_state event on change).
  std::string sctp_state() const;
  // Every message the peer sends, on the control thread (SctpMessage's bytes are valid
  // during the call). The handlers may send on any transport, but must not destroy this one.
  void set_sctp_message_handler(SctpMessageHandler handler);
  // A channel the peer opened in-band with DCEP (mediasoup-client's channels are
  // negotiated and send none): already acknowledged; its stream's messages arrive through
  // the message handler as on any stream.
  void set_sctp_data_channel_open_handler(SctpDataChannelOpenHandler handler);
  // The peer reset a stream (it closed that DataChannel); ours is reset in answer.
  void set_sctp_stream_closed_handler(SctpStreamClosedHandler handler);
  // Sends one message on params.stream_id (with its reliability). false when SCTP is not
  // connected, the message is larger than sctp_max_message_size(), or usrsctp refuses it
  // (its send buffer, 1 MiB, is full): counted, never queued without bound. PPID 51/53
  // with len 0 are sent as 56/57.
  bool send_sctp_message(const SctpStreamParameters& params, uint32_t ppid, const uint8_t* data,
                         size_t len);
  // Resets our outgoing stream: the peer closes its DataChannel and resets its own.
  void close_sctp_stream(uint16_t stream_id);
  // The DCEP channel the peer opened on stream_id, if any.
  const SctpDataChannelOpen* sctp_data_channel(uint16_t stream_id) const;
  // nullptr until DTLS connects.
  const SctpAssociation* sctp() const { return sctp_.get(); }

  // connect() has been called (the peer's DTLS role and fingerprints are known).
  bool connect_called() const { return dtls_role_.has_value(); }

  const IceLiteServer& ice() const { return ice_; }
  dp::DtlsState dtls_state() const { return dtls_.state(); }
  uint16_t port() const { return port_; }

 private:
  // dp::DtlsTransport::Listener
  void on_dtls_send(const uint8_t* data, size_t len) override;
  void on_dtls_connected(const dp::DtlsSrtpKeys& keys) override;
  void on_dtls_failed(const std::string& reason) override;
  void on_dtls_closed() override;
  void on_dtls_application_data(const uint8_t* data, size_t len) override;
  // SctpAssociation::Listener
  void on_sctp_packet(const uint8_t* data, size_t len) override;
  void on_sctp_state(SctpState state) override;
  void on_sctp_message(const SctpMessage& message) override;
  void on_sctp_data_channel_open(const SctpDataChannelOpen& open) override;
  void on_sctp_stream_closed(uint16_t stream_id) override;

  void start_sctp();

  void on_stun(const dp::ControlPacket& packet, uint64_t now_ms);
  void maybe_start_dtls(uint64_t now_ms);
  void arm_dtls_timer();
  void send(const uint8_t* data, size_t len, const dp::SocketAddress& to);
  void emit(WebRtcTransportEvent::Kind kind, std::string value);
  void note_dtls_state();

  WebRtcTransportOptions options_;
  dp::Worker& worker_;
  boost::asio::io_context& io_;
  WebRtcTransportObserver observer_;
  dp::UdpPortProvider& ports_;
  dp::UdpBinding binding_;  // own port (fd -1 once the worker adopted the socket)
  uint16_t port_ = 0;
  IceLiteServer ice_;
  dp::DtlsTransport dtls_;
  std::optional<dp::DtlsRole> dtls_role_;  // set by connect
  std::vector<dp::DtlsFingerprint> remote_fingerprints_;
  dp::DtlsState reported_dtls_state_ = dp::DtlsState::fresh;
  std::string srtp_suite_;
  std::string dtls_failure_;
  // Counted here, on the control thread (the worker's counters have one writer: it).
  uint64_t stun_malformed_ = 0;
  uint64_t ice_checks_refused_ = 0;
  boost::asio::steady_timer dtls_timer_;
  SctpOptions sctp_options_;
  SctpMessageHandler sctp_handler_;
  SctpDataChannelOpenHandler sctp_open_handler_;
  SctpStreamClosedHandler sctp_closed_handler_;
  uint64_t sctp_packets_undeliverable_ = 0;  // DTLS refused an SCTP packet (not connected)
  // After dtls_: destroyed first, while DTLS can still carry what it sends.
  std::unique_ptr<SctpAssociation> sctp_;
};

}  // namespace weir::control
