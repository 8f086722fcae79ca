#include "meeting_scenario.h"

#include "scenario_calls.h"
#include "srtp_keys.h"

namespace weir::pktgen {

using json = nlohmann::json;
using Method = ApiClient::Method;

namespace {

json produce_body(const char* kind, const char* mime, uint8_t payload_type, uint32_t clock_rate,
                  uint32_t ssrc, const std::string& cname) {
  json codec = {{"mimeType", mime}, {"payloadType", payload_type}, {"clockRate", clock_rate}};
  if (std::string_view(kind) == "audio") codec["channels"] = 2;
  return {{"kind", kind},
          {"rtpParameters",
           {{"codecs", json::array({codec})},
            {"encodings", json::array({{{"ssrc", ssrc}}})},
            {"rtcp", {{"cname", cname}}}}}};
}

}  // namespace

bool MeetingScenario::build_peer(const MeetingSpec& spec, const std::string& room, const json& caps,
                                 size_t index, MeetingPeer& peer, std::string* error) {
  const MeetingPeerSpec& ps = spec.peers[index];
  const std::string room_path = "/rooms/" + room;
  json answer;
  peer.room = room;
  peer.broadcaster = random_id("pktgen-peer-");
  json bc = {{"id", peer.broadcaster},
             {"displayName", "pktgen peer " + std::to_string(index)},
             {"device", {{"name", "pktgen"}, {"version", "1"}}},
             {"rtpCapabilities", caps}};
  if (!api_call(api_, Method::post, room_path + "/broadcasters", &bc, answer, "POST", error)) {
    return false;
  }
  broadcasters_.push_back({room, peer.broadcaster});
  const std::string base = room_path + "/broadcasters/" + peer.broadcaster;

  // Sending: comedia, so weir learns pktgen's address from the first packet.
  json treq = plain_transport_request(spec.suite, /*comedia=*/true);
  if (!api_call(api_, Method::post, base + "/transports", &treq, answer, "POST", error)) {
    return false;
  }
  peer.send_transport_id = answer.value("id", std::string());
  peer.send_ip = answer.value("ip", std::string());
  peer.send_port = answer.value("port", uint16_t{0});
  if (peer.send_transport_id.empty() || peer.send_ip.empty() || peer.send_port == 0) {
    *error = "sending transport answer lacks id/ip/port: " + answer.dump();
    return false;
  }
  std::vector<uint8_t> unused_key;
  if (!read_weir_key(answer, spec.suite, unused_key, error)) return false;
  const std::string send = base + "/transports/" + peer.send_transport_id;
  if (spec.suite != "none") {
    json conn = {{"srtpParameters",
                  {{"cryptoSuite", spec.suite}, {"keyBase64", base64_encode(ps.sender_key)}}}};
    if (!api_call(api_, Method::post, send + "/connect", &conn, answer, "POST", error)) {
      return false;
    }
  }
  const std::string cname = "pktgen-" + std::to_string(index);
  json audio =
      produce_body("audio", "audio/opus", spec.audio_payload_type, 48000, ps.audio_ssrc, cname);
  if (!api_call(api_, Method::post, send + "/producers", &audio, answer, "POST", error)) {
    return false;
  }
  peer.audio_producer_id = answer.value("id", std::string());
  json video =
      produce_body("video", "video/VP8", spec.video_payload_type, 90000, ps.video_ssrc, cname);
  if (!api_call(api_, Method::post, send + "/producers", &video, answer, "POST", error)) {
    return false;
  }
  peer.video_producer_id = answer.value("id", std::string());
  if (peer.audio_producer_id.empty() || peer.video_producer_id.empty()) {
    *error = "produce answer without id: " + answer.dump();
    return false;
  }

  // Receiving: connected to the peer's socket.
  treq = plain_transport_request(spec.suite, /*comedia=*/false);
  if (!api_call(api_, Method::post, base + "/transports", &treq, answer, "POST", error)) {
    return false;
  }
  peer.receive_transport_id = answer.value("id", std::string());
  if (peer.receive_transport_id.empty()) {
    *error = "receiving transport answer without id: " + answer.dump();
    return false;
  }
  if (!read_weir_key(answer, spec.suite, peer.weir_key, error)) return false;
  json conn = {{"ip", spec.local_ip}, {"port", ps.receive_port}};
  if (spec.suite != "none") {
    // weir decrypts this remote's RTCP with it; pktgen sends none, but SRTP needs one.
    conn["srtpParameters"] = {{"cryptoSuite", spec.suite},
                              {"keyBase64", base64_encode(random_bytes(ps.sender_key.size()))}};
  }
  return api_call(api_, Method::post,
                  base + "/transports/" + peer.receive_transport_id + "/connect", &conn, answer,
                  "POST", error);
}

bool MeetingScenario::build(const MeetingSpec& spec, MeetingPlan& plan, std::string* error,
                            const std::function<void(size_t)>& progress) {
  const size_t k = spec.peers_per_room;
  if (spec.peers.size() != spec.rooms.size() * k || k < 2) {
    *error = "internal: a meeting needs rooms x peers (at least 2) peer specs";
    return false;
  }
  plan.peers.assign(spec.peers.size(), MeetingPeer{});
  plan.consumers.clear();
  plan.consumers.reserve(spec.peers.size() * (k - 1) * kMeetingStreamsPerPeer);
  for (size_t r = 0; r < spec.rooms.size(); ++r) {
    const std::string& room = spec.rooms[r];
    json caps;
    if (!api_call(api_, Method::get, "/rooms/" + room, nullptr, caps, "GET", error)) return false;
    if (!caps.is_object() || !caps.contains("codecs")) {
      *error = "GET /rooms/" + room + " answered without codecs: " + caps.dump();
      return false;
    }
    const size_t first = r * k;
    for (size_t i = first; i < first + k; ++i) {
      if (!build_peer(spec, room, caps, i, plan.peers[i], error)) return false;
      if (progress) progress(i + 1);
    }
    // Every peer of the room consumes the others' audio and video, peer by peer.
    for (size_t i = first; i < first + k; ++i) {
      const MeetingPeer& consumer = plan.peers[i];
      const std::string transport = "/rooms/" + room + "/broadcasters/" + consumer.broadcaster +
                                    "/transports/" + consumer.receive_transport_id;
      for (size_t j = first; j < first + k; ++j) {
        if (j == i) continue;
        for (const bool video : {false, true}) {
          const MeetingPeer& producer = plan.peers[j];
          const std::string& producer_id =
              video ? producer.video_producer_id : producer.audio_producer_id;
          json answer;
          if (!api_call(api_, Method::post, transport + "/consume?producerId=" + producer_id,
                        nullptr, answer, "POST", error)) {
            return false;
          }
          ConsumerInfo ci;
          if (!read_consume_answer(answer, ci, error)) return false;
          ci.transport_id = consumer.receive_transport_id;
          ci.socket = static_cast<uint32_t>(i);
          ci.stream = meeting_stream(static_cast<uint32_t>(j), video);
          ci.weir_key = consumer.weir_key;
          plan.consumers.push_back(std::move(ci));
        }
      }
    }
  }
  return true;
}

bool MeetingScenario::teardown(std::string* error) {
  bool ok = true;
  for (auto it = broadcasters_.rbegin(); it != broadcasters_.rend(); ++it) {
    const ApiResponse r = api_.request(
        Method::del, "/rooms/" + it->room + "/broadcasters/" + it->broadcaster, nullptr);
    if (r.status != 200) {
      if (ok) *error = r.describe("DELETE broadcaster " + it->broadcaster);
      ok = false;
    }
  }
  broadcasters_.clear();
  return ok;
}

}  // namespace weir::pktgen
