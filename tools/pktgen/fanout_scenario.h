// Builds the fanout scenario on weir through its broadcaster HTTP API, and takes it down:
// a producing broadcaster with one plain transport (comedia, rtcp-mux) and a VP8 producer,
// and a consuming broadcaster with one plain transport per consumer (connected to one of
// pktgen's sockets) consuming that producer. With transport "webrtc" every transport is a
// WebRTC one instead: connect carries pktgen's DTLS role and fingerprint, and the plan
// keeps weir's ICE and DTLS parameters for the endpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api_client.h"
#include "dataplane/dtls_transport.h"
#include "webrtc_signaling.h"

namespace weir::pktgen {

// What pktgen says in a WebRTC transport's connect.
struct WebRtcConnect {
  dp::DtlsRole role = dp::DtlsRole::client;  // pktgen's own
  dp::DtlsFingerprint fingerprint;           // pktgen's certificate's (or a wrong one)
};

struct FanoutSpec {
  std::string room;
  std::string transport = "plain";  // or "webrtc"
  std::string suite;                // SRTP suite name, or "none"
  std::vector<uint8_t> sender_key;  // pktgen's master key for the producer transport
  uint32_t producer_ssrc = 0;
  uint8_t producer_payload_type = 101;
  std::string local_ip;
  std::vector<uint16_t> consumer_ports;          // pktgen's receiving sockets, one per consumer
  WebRtcConnect producer_connect;                // webrtc only
  std::vector<WebRtcConnect> consumer_connects;  // webrtc only, one per consumer
};

struct ConsumerInfo {
  static constexpr uint32_t kOwnSocket = 0xFFFFFFFF;
  // pktgen's receiving socket (an index into Receiver::ports()); kOwnSocket: the consumer's
  // own index, one socket per consumer (fanout). Consumers sharing a socket (a meeting
  // peer's transport) are told apart by SSRC.
  uint32_t socket = kOwnSocket;
  uint32_t stream = 0;  // the sender's stream it carries, whose counters define its window
  std::string transport_id;
  std::string consumer_id;
  uint32_t ssrc = 0;
  uint8_t payload_type = 0;
  std::vector<uint8_t> weir_key;  // what weir encrypts this consumer's packets with (plain)
  WebRtcRemote webrtc;            // weir's end of the transport (webrtc)
  std::string mid;                // webrtc: the MID weir writes into every packet
  uint8_t mid_extension_id = 0;   // webrtc: its header extension id
};

struct FanoutPlan {
  std::string producer_broadcaster;
  std::string consumer_broadcaster;
  std::string producer_transport_id;
  std::string producer_id;
  std::string producer_ip;  // where pktgen sends the producer's RTP
  uint16_t producer_port = 0;
  WebRtcRemote producer_webrtc;  // webrtc only
  std::vector<ConsumerInfo> consumers;
};

class FanoutScenario {
 public:
  explicit FanoutScenario(ApiClient& api) : api_(api) {}
  // On failure returns false with *error holding the failing call and weir's errorReason;
  // whatever was created stays recorded for teardown(). progress(i) is called per consumer.
  bool build(const FanoutSpec& spec, FanoutPlan& plan, std::string* error,
             const std::function<void(size_t)>& progress = {});
  // Deletes both broadcasters (which closes their transports, producers and consumers).
  // Returns false with *error if a DELETE failed.
  bool teardown(std::string* error);

 private:
  ApiClient& api_;
  std::string room_;
  std::vector<std::string> broadcasters_;
};

}  // namespace weir::pktgen
