#include "scenario_calls.h"

#include "srtp_keys.h"

namespace weir::pktgen {

using json = nlohmann::json;

std::string random_id(const char* prefix) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = prefix;
  for (uint8_t b : random_bytes(8)) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

json plain_transport_request(const std::string& suite, bool comedia) {
  json body = {
      {"type", "plain"}, {"comedia", comedia}, {"rtcpMux", true}, {"enableSrtp", suite != "none"}};
  if (suite != "none") body["srtpCryptoSuite"] = suite;
  return body;
}

bool read_weir_key(const json& answer, const std::string& suite, std::vector<uint8_t>& key,
                   std::string* error) {
  if (suite == "none") return true;
  const auto it = answer.find("srtpParameters");
  if (it == answer.end() || !it->is_object() || !it->contains("keyBase64") ||
      !(*it)["keyBase64"].is_string() ||
      !base64_decode((*it)["keyBase64"].get<std::string>(), key)) {
    *error = "transport answer without a usable srtpParameters.keyBase64: " + answer.dump();
    return false;
  }
  if ((*it).value("cryptoSuite", std::string()) != suite) {
    *error = "transport answer has cryptoSuite " + (*it).value("cryptoSuite", std::string("?")) +
             ", asked for " + suite;
    return false;
  }
  return true;
}

bool api_call(ApiClient& api, ApiClient::Method method, const std::string& target, const json* body,
              json& answer, const char* what, std::string* error) {
  ApiResponse r = api.request(method, target, body);
  if (!r.ok()) {
    *error = r.describe(std::string(what) + " " + target);
    return false;
  }
  answer = std::move(r.json);
  return true;
}

bool read_consume_answer(const json& answer, ConsumerInfo& ci, std::string* error) {
  ci.consumer_id = answer.value("id", std::string());
  const json& rtp = answer.contains("rtpParameters") ? answer["rtpParameters"] : json();
  if (ci.consumer_id.empty() || !rtp.is_object() || !rtp.contains("encodings") ||
      !rtp["encodings"].is_array() || rtp["encodings"].empty() || !rtp.contains("codecs") ||
      !rtp["codecs"].is_array() || rtp["codecs"].empty()) {
    *error = "consume answer lacks id/rtpParameters: " + answer.dump();
    return false;
  }
  ci.ssrc = rtp["encodings"][0].value("ssrc", uint32_t{0});
  ci.payload_type = rtp["codecs"][0].value("payloadType", uint8_t{0});
  return true;
}

}  // namespace weir::pktgen
