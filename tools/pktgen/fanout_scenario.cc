#include "fanout_scenario.h"

#include "scenario_calls.h"
#include "srtp_keys.h"

namespace weir::pktgen {
using json = nlohmann::json;
using Method = ApiClient::Method;

bool FanoutScenario::build(const FanoutSpec& spec, FanoutPlan& plan, std::string* error,
                           const std::function<void(size_t)>& progress) {
  room_ = spec.room;
  const std::string room_path = "/rooms/" + spec.room;
  auto call = [&](Method m, const std::string& target, const json* body, json& answer,
                  const char* what) {
    return api_call(api_, m, target, body, answer, what, error);
  };

  json caps;
  if (!call(Method::get, room_path, nullptr, caps, "GET")) return false;
  if (!caps.is_object() || !caps.contains("codecs")) {
    *error = "GET " + room_path + " answered without codecs: " + caps.dump();
    return false;
  }

  // The producing side: no rtpCapabilities, it only sends.
  json answer;
  plan.producer_broadcaster = random_id("pktgen-tx-");
  json bc = {{"id", plan.producer_broadcaster},
             {"displayName", "pktgen sender"},
             {"device", {{"name", "pktgen"}, {"version", "1"}}}};
  if (!call(Method::post, room_path + "/broadcasters", &bc, answer, "POST")) return false;
  broadcasters_.push_back(plan.producer_broadcaster);
  const std::string tx_base = room_path + "/broadcasters/" + plan.producer_broadcaster;

  const bool webrtc = spec.transport == "webrtc";
  if (webrtc && spec.consumer_connects.size() != spec.consumer_ports.size()) {
    *error = "internal: one WebRTC connect per consumer needed";
    return false;
  }
  const json webrtc_request = {{"type", "webrtc"}};
  json treq = webrtc ? webrtc_request : plain_transport_request(spec.suite, /*comedia=*/true);
  if (!call(Method::post, tx_base + "/transports", &treq, answer, "POST")) return false;
  plan.producer_transport_id = answer.value("id", std::string());
  if (webrtc) {
    if (!parse_webrtc_transport(answer, plan.producer_webrtc, error)) return false;
    plan.producer_ip = plan.producer_webrtc.candidate.ip();
    plan.producer_port = plan.producer_webrtc.candidate.port();
  } else {
    plan.producer_ip = answer.value("ip", std::string());
    plan.producer_port = answer.value("port", uint16_t{0});
  }
  if (plan.producer_transport_id.empty() || plan.producer_ip.empty() || plan.producer_port == 0) {
    *error = "producer transport answer lacks id/ip/port: " + answer.dump();
    return false;
  }
  std::vector<uint8_t> unused_key;
  if (!webrtc && !read_weir_key(answer, spec.suite, unused_key, error)) return false;
  const std::string tx_transport = tx_base + "/transports/" + plan.producer_transport_id;
  if (webrtc) {
    json conn = webrtc_connect_body(spec.producer_connect.role, spec.producer_connect.fingerprint);
    if (!call(Method::post, tx_transport + "/connect", &conn, answer, "POST")) return false;
  } else if (spec.suite != "none") {
    json conn = {{"srtpParameters",
                  {{"cryptoSuite", spec.suite}, {"keyBase64", base64_encode(spec.sender_key)}}}};
    if (!call(Method::post, tx_transport + "/connect", &conn, answer, "POST")) return false;
  }
  json produce = {{"kind", "video"},
                  {"rtpParameters",
                   {{"codecs", json::array({{{"mimeType", "video/VP8"},
                                             {"payloadType", spec.producer_payload_type},
                                             {"clockRate", 90000}}})},
                    {"encodings", json::array({{{"ssrc", spec.producer_ssrc}}})},
                    {"rtcp", {{"cname", "pktgen"}}}}}};
  if (!call(Method::post, tx_transport + "/producers", &produce, answer, "POST")) return false;
  plan.producer_id = answer.value("id", std::string());
  if (plan.producer_id.empty()) {
    *error = "produce answer without id: " + answer.dump();
    return false;
  }

  // The consuming side takes the router's own capabilities, so it can consume anything.
  plan.consumer_broadcaster = random_id("pktgen-rx-");
  json rc = {{"id", plan.consumer_broadcaster},
             {"displayName", "pktgen receivers"},
             {"device", {{"name", "pktgen"}, {"version", "1"}}},
             {"rtpCapabilities", caps}};
  if (!call(Method::post, room_path + "/broadcasters", &rc, answer, "POST")) return false;
  broadcasters_.push_back(plan.consumer_broadcaster);
  const std::string rx_base = room_path + "/broadcasters/" + plan.consumer_broadcaster;

  plan.consumers.clear();
  plan.consumers.reserve(spec.consumer_ports.size());
  json creq = webrtc ? webrtc_request : plain_transport_request(spec.suite, /*comedia=*/false);
  for (size_t i = 0; i < spec.consumer_ports.size(); ++i) {
    ConsumerInfo ci;
    if (!call(Method::post, rx_base + "/transports", &creq, answer, "POST")) return false;
    ci.transport_id = answer.value("id", std::string());
    if (ci.transport_id.empty()) {
      *error = "consumer transport answer without id: " + answer.dump();
      return false;
    }
    if (webrtc ? !parse_webrtc_transport(answer, ci.webrtc, error)
               : !read_weir_key(answer, spec.suite, ci.weir_key, error)) {
      return false;
    }
    const std::string transport = rx_base + "/transports/" + ci.transport_id;
    json conn = {{"ip", spec.local_ip}, {"port", spec.consumer_ports[i]}};
    if (webrtc) {
      conn = webrtc_connect_body(spec.consumer_connects[i].role,
                                 spec.consumer_connects[i].fingerprint);
    } else if (spec.suite != "none") {
      // weir decrypts this remote's RTCP with it; pktgen sends none, but SRTP needs one.
      conn["srtpParameters"] = {{"cryptoSuite", spec.suite},
                                {"keyBase64", base64_encode(random_bytes(spec.sender_key.size()))}};
    }
    if (!call(Method::post, transport + "/connect", &conn, answer, "POST")) return false;
    if (!call(Method::post, transport + "/consume?producerId=" + plan.producer_id, nullptr, answer,
              "POST")) {
      return false;
    }
    if (!read_consume_answer(answer, ci, error)) return false;
    if (webrtc && !read_consumer_mid(answer["rtpParameters"], ci.mid, ci.mid_extension_id, error)) {
      return false;
    }
    plan.consumers.push_back(std::move(ci));
    if (progress) progress(i + 1);
  }
  return true;
}

bool FanoutScenario::teardown(std::string* error) {
  bool ok = true;
  // Consumers first, so the producer's deletion does not fan out closes to them.
  for (auto it = broadcasters_.rbegin(); it != broadcasters_.rend(); ++it) {
    const ApiResponse r =
        api_.request(Method::del, "/rooms/" + room_ + "/broadcasters/" + *it, nullptr);
    if (r.status != 200) {
      if (ok) *error = r.describe("DELETE broadcaster " + *it);
      ok = false;
    }
  }
  broadcasters_.clear();
  return ok;
}

}  // namespace weir::pktgen
