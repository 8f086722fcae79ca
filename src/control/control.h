// The control plane's public face: the room model behind the broadcaster API. Every
// method runs on the control thread (the app gives Control its own asio io_context); the
// signaling layer posts calls there and relays the results. Control validates request
// bodies itself, so a bad field is named the same way whatever the transport.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace weir::dp {
class Worker;
class DtlsCertificate;
class UdpPortProvider;
}  // namespace weir::dp

namespace weir::control {

struct ControlConfig {
  std::string listen_ip = "127.0.0.1";
  std::string announced_address;  // empty: announce listen_ip
  uint16_t rtc_min_port = 40000;
  uint16_t rtc_max_port = 49999;
  // Router media codecs (RtpCodecCapability objects, contract 6.1); null: the demo's list
  // (opus, VP8, VP9 profile-id 2, H264 4d0032 and 42e01f).
  nlohmann::json media_codecs;
  // WebRTC transports use each worker's shared port (WebRtcServer mode) instead of a port
  // of their own; the workers must have been started with one.
  bool webrtc_shared_port = false;
  uint64_t ice_consent_timeout_ms = 30000;
  // A room with more consumers than this spreads its new transports over the workers
  // (worker_placement.h); below it a room stays on one worker.
  uint32_t room_spread_threshold = 500;
  // The demo's server bot: every joined peer consumes its "bot" data producer (peerId
  // null), and a text message on a peer's "bot" data producer is answered on it with
  // `<displayName> said me: "<text>"`.
  bool demo_bot = true;
  // The DTLS certificate of every WebRTC transport; null: one is generated at start.
  std::shared_ptr<const dp::DtlsCertificate> dtls_certificate;
  // Where transports' UDP ports come from; null: kernel sockets. DPDK mode passes the table
  // of ports its workers' UDP stacks serve. Outlives Control.
  dp::UdpPortProvider* udp_ports = nullptr;
};

// An HTTP-shaped answer: status 200 with a JSON body (or plain text), or an error
// status (400 bad request, 404 unknown id, 500 refused) with {"errorReason": "..."}.
struct ApiResult {
  int status = 200;
  nlohmann::json body;  // used when text is empty
  std::string text;     // plain-text body (e.g. "broadcaster deleted")

  static ApiResult ok(nlohmann::json body) { return {200, std::move(body), {}}; }
  static ApiResult ok_text(std::string text) { return {200, nullptr, std::move(text)}; }
  static ApiResult error(int status, std::string reason) {
    return {status, nlohmann::json{{"errorReason", std::move(reason)}}, {}};
  }
  bool is_ok() const { return status == 200; }
};

class RoomRegistry;  // defined in room_registry.h
class PeerChannel;   // peer_channel.h

class Control {
 public:
  // Throws ControlError when config.media_codecs names a codec weir does not support.
  // Workers must outlive the Control; rooms are spread over them by a hash of their id.
  // io: the control thread's event loop, on which every method must run; WebRTC transports
  // need it (ICE and DTLS run there). Without one only plain transports can be created.
  Control(const ControlConfig& config, std::vector<dp::Worker*> workers,
          boost::asio::io_context* io = nullptr);
  ~Control();
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // The broadcaster REST API of the signaling contract, section 7. Path parameters come
  // as strings; bodies as parsed JSON (the caller answers 400 for unparsable JSON).
  ApiResult get_room(const std::string& room_id);  // router RTP capabilities
  ApiResult create_broadcaster(const std::string& room_id, const nlohmann::json& body);
  ApiResult delete_broadcaster(const std::string& room_id, const std::string& broadcaster_id);
  ApiResult create_transport(const std::string& room_id, const std::string& broadcaster_id,
                             const nlohmann::json& body);
  ApiResult connect_transport(const std::string& room_id, const std::string& broadcaster_id,
                              const std::string& transport_id, const nlohmann::json& body);
  // WebRTC transports: new ICE credentials, {usernameFragment, password, iceLite}.
  ApiResult restart_ice(const std::string& room_id, const std::string& broadcaster_id,
                        const std::string& transport_id);
  ApiResult create_producer(const std::string& room_id, const std::string& broadcaster_id,
                            const std::string& transport_id, const nlohmann::json& body);
  ApiResult consume(const std::string& room_id, const std::string& broadcaster_id,
                    const std::string& transport_id, const std::string& producer_id);
  // The same with the optional body {paused?: bool}.
  ApiResult consume(const std::string& room_id, const std::string& broadcaster_id,
                    const std::string& transport_id, const std::string& producer_id,
                    const nlohmann::json& body);
  // Producer pause/resume and consumer pause/resume ("pause" or "resume" as action).
  // DataChannels (contract 7): {label, protocol, sctpStreamParameters, appData} -> {id};
  // {dataProducerId} -> {id, streamId}. WebRTC transports only.
  ApiResult produce_data(const std::string& room_id, const std::string& broadcaster_id,
                         const std::string& transport_id, const nlohmann::json& body);
  ApiResult consume_data(const std::string& room_id, const std::string& broadcaster_id,
                         const std::string& transport_id, const nlohmann::json& body);
  ApiResult set_producer_paused(const std::string& room_id, const std::string& broadcaster_id,
                                const std::string& producer_id, bool paused);
  ApiResult set_consumer_paused(const std::string& room_id, const std::string& broadcaster_id,
                                const std::string& consumer_id, bool paused);
  ApiResult close_producer(const std::string& room_id, const std::string& broadcaster_id,
                           const std::string& producer_id);
  ApiResult close_consumer(const std::string& room_id, const std::string& broadcaster_id,
                           const std::string& consumer_id);

  // protoo peers (signaling contract 1-4). The signaling layer calls these on the control
  // thread. peer_connected: a WebSocket with ?roomId&peerId was accepted; the room is
  // created if needed and a peer with the same id is replaced (closed first). An error
  // result (500) means the upgrade must be refused. peer_request: one request from that
  // connection; respond runs once, on the control thread, with the response data (200)
  // or errorCode = status and errorReason. peer_disconnected: the connection closed.
  // `channel` identifies the connection: calls from a replaced connection are ignored.
  // peer_connected sends the peer its first notification, mediasoup-version. Control
  // closes a peer's channel itself when the peer is replaced or one of its transports
  // fails (ICE disconnected/closed, DTLS failed/closed: the demo's policy), and then does
  // not expect peer_disconnected for it. A room whose last peer left is closed.
  ApiResult peer_connected(const std::string& room_id, const std::string& peer_id,
                           std::shared_ptr<PeerChannel> channel);
  void peer_request(const std::string& room_id, const std::string& peer_id,
                    const PeerChannel* channel, const std::string& method,
                    const nlohmann::json& data, std::function<void(ApiResult)> respond);
  void peer_disconnected(const std::string& room_id, const std::string& peer_id,
                         const PeerChannel* channel);

  // Stats as arrays of objects, in the shape of the protoo get*Stats answers.
  ApiResult transport_stats(const std::string& room_id, const std::string& transport_id);
  ApiResult producer_stats(const std::string& room_id, const std::string& producer_id);
  ApiResult consumer_stats(const std::string& room_id, const std::string& consumer_id);
  // Process-wide: workers, engines, drop counters, rooms.
  ApiResult server_stats();

  // Closes every room (on shutdown).
  void close_all();

  // The router RTP capabilities every room has (what get_room answers).
  const nlohmann::json& router_rtp_capabilities() const;

 private:
  std::unique_ptr<RoomRegistry> rooms_;
};

}  // namespace weir::control
