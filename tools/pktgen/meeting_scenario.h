// Builds the meeting scenario on weir through its broadcaster HTTP API, and takes it down:
// R rooms of K peers. Every peer is a broadcaster with the router's capabilities, a plain
// sending transport (comedia, rtcp-mux) carrying an opus and a VP8 producer, and a plain
// receiving transport (connected to the peer's pktgen socket) consuming the two producers
// of every other peer of its room, as a conference client does with mediasoup.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api_client.h"
#include "fanout_scenario.h"

namespace weir::pktgen {

// Streams are numbered per peer: peer i sends stream 2i (audio) and 2i+1 (video).
constexpr uint32_t kMeetingStreamsPerPeer = 2;
constexpr uint32_t meeting_stream(uint32_t peer, bool video) {
  return peer * kMeetingStreamsPerPeer + (video ? 1 : 0);
}

struct MeetingPeerSpec {
  std::vector<uint8_t> sender_key;  // pktgen's master key for the peer's sending transport
  uint32_t audio_ssrc = 0;
  uint32_t video_ssrc = 0;
  uint16_t receive_port = 0;  // pktgen's socket the peer's receiving transport sends to
};

struct MeetingSpec {
  std::vector<std::string> rooms;
  uint32_t peers_per_room = 0;
  std::string suite;  // SRTP suite name, or "none"
  std::string local_ip;
  uint8_t audio_payload_type = 100;
  uint8_t video_payload_type = 101;
  std::vector<MeetingPeerSpec> peers;  // rooms x peers_per_room, room by room
};

struct MeetingPeer {
  std::string room;
  std::string broadcaster;
  std::string send_transport_id;
  std::string send_ip;  // where pktgen sends the peer's audio and video
  uint16_t send_port = 0;
  std::string audio_producer_id;
  std::string video_producer_id;
  std::string receive_transport_id;
  std::vector<uint8_t> weir_key;  // what weir encrypts the receiving transport's packets with
};

struct MeetingPlan {
  std::vector<MeetingPeer> peers;  // in the spec's order
  // Every consumer, with its socket (the consuming peer's index), stream (the producing
  // peer's audio or video) and the receiving transport's key.
  std::vector<ConsumerInfo> consumers;
};

class MeetingScenario {
 public:
  explicit MeetingScenario(ApiClient& api) : api_(api) {}
  // On failure returns false with *error holding the failing call and weir's errorReason;
  // whatever was created stays recorded for teardown(). progress(i) is called per peer
  // set up (producing and receiving transports, producers).
  bool build(const MeetingSpec& spec, MeetingPlan& plan, std::string* error,
             const std::function<void(size_t)>& progress = {});
  // Deletes every broadcaster (which closes its transports, producers and consumers).
  bool teardown(std::string* error);

 private:
  bool build_peer(const MeetingSpec& spec, const std::string& room, const nlohmann::json& caps,
                  size_t index, MeetingPeer& peer, std::string* error);

  struct Created {
    std::string room;
    std::string broadcaster;
  };
  ApiClient& api_;
  std::vector<Created> broadcasters_;
};

}  // namespace weir::pktgen
