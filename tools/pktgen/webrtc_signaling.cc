#include "webrtc_signaling.h"

namespace weir::pktgen {

using json = nlohmann::json;

namespace {

bool string_field(const json& object, const char* name, std::string& out) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) return false;
  out = it->get<std::string>();
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool parse_ice_parameters(const json& ice, IceCredentials& out, std::string* error) {
  if (!ice.is_object() || !string_field(ice, "usernameFragment", out.ufrag) ||
      !string_field(ice, "password", out.password)) {
    *error = "ICE parameters without usernameFragment and password: " + ice.dump();
    return false;
  }
  if (ice.value("iceLite", false) != true) {
    // pktgen is controlling and never answers checks: only an ICE-lite peer works with it.
    *error = "weir's ICE parameters do not say iceLite:true: " + ice.dump();
    return false;
  }
  return true;
}

bool parse_webrtc_transport(const json& answer, WebRtcRemote& out, std::string* error) {
  if (!answer.is_object()) {
    *error = "WebRTC transport answer is not an object: " + answer.dump();
    return false;
  }
  const auto ice = answer.find("iceParameters");
  if (ice == answer.end() || !parse_ice_parameters(*ice, out.ice, error)) {
    if (ice == answer.end()) *error = "WebRTC transport answer without iceParameters";
    return false;
  }
  out.candidate = dp::SocketAddress{};
  const auto candidates = answer.find("iceCandidates");
  if (candidates != answer.end() && candidates->is_array()) {
    for (const json& c : *candidates) {
      if (!c.is_object() || c.value("protocol", std::string()) != "udp") continue;
      // Newer answers name it address, older ones ip (contract 5.3): address first.
      std::string ip;
      if (!string_field(c, "address", ip) && !string_field(c, "ip", ip)) continue;
      const auto port = c.find("port");
      if (port == c.end() || !port->is_number_unsigned() || port->get<uint32_t>() == 0 ||
          port->get<uint32_t>() > 65535) {
        continue;
      }
      if (auto a = dp::SocketAddress::parse(ip, static_cast<uint16_t>(port->get<uint32_t>()))) {
        out.candidate = *a;
        break;
      }
    }
  }
  if (!out.candidate.valid()) {
    *error = "WebRTC transport answer without a usable UDP candidate: " + answer.dump();
    return false;
  }
  out.fingerprints.clear();
  const auto dtls = answer.find("dtlsParameters");
  if (dtls != answer.end() && dtls->is_object() && dtls->contains("fingerprints") &&
      (*dtls)["fingerprints"].is_array()) {
    for (const json& f : (*dtls)["fingerprints"]) {
      dp::DtlsFingerprint fp;
      if (f.is_object() && string_field(f, "algorithm", fp.algorithm) &&
          string_field(f, "value", fp.value)) {
        out.fingerprints.push_back(std::move(fp));
      }
    }
  }
  if (out.fingerprints.empty()) {
    *error = "WebRTC transport answer without dtlsParameters.fingerprints: " + answer.dump();
    return false;
  }
  // A browser uses only the last entry (contract 5.3); pktgen checks weir the same way, so
  // that an answer a browser would choke on fails here too.
  out.fingerprints = {out.fingerprints.back()};
  if (!dp::dtls_fingerprint_algorithm_supported(out.fingerprints[0].algorithm)) {
    *error = "the last fingerprint of weir's answer has an unsupported algorithm: " +
             out.fingerprints[0].algorithm;
    return false;
  }
  return true;
}

bool read_consumer_mid(const json& rtp, std::string& mid, uint8_t& extension_id,
                       std::string* error) {
  static constexpr char kMidUri[] = "urn:ietf:params:rtp-hdrext:sdes:mid";
  if (!rtp.is_object() || !string_field(rtp, "mid", mid)) {
    *error = "WebRTC consume answer without rtpParameters.mid: " + rtp.dump();
    return false;
  }
  extension_id = 0;
  const auto exts = rtp.find("headerExtensions");
  if (exts != rtp.end() && exts->is_array()) {
    for (const json& e : *exts) {
      if (e.is_object() && e.value("uri", std::string()) == kMidUri && e.contains("id") &&
          e["id"].is_number_unsigned() && e["id"].get<uint32_t>() >= 1 &&
          e["id"].get<uint32_t>() <= 14) {
        extension_id = static_cast<uint8_t>(e["id"].get<uint32_t>());
      }
    }
  }
  if (extension_id == 0) {
    *error = "WebRTC consume answer without the MID header extension: " + rtp.dump();
    return false;
  }
  return true;
}

json webrtc_connect_body(dp::DtlsRole own_role, const dp::DtlsFingerprint& fingerprint) {
  return {{"dtlsParameters",
           {{"role", dtls_role_name(own_role)},
            {"fingerprints", json::array({{{"algorithm", fingerprint.algorithm},
                                           {"value", fingerprint.value}}})}}}};
}

dp::DtlsFingerprint sha256_fingerprint(const dp::DtlsCertificate& certificate) {
  for (const auto& f : certificate.fingerprints()) {
    if (f.algorithm == "sha-256") return f;
  }
  return {"sha-256", dp::dtls_certificate_fingerprint(certificate.x509(), "sha-256")};
}

dp::DtlsFingerprint wrong_fingerprint(const dp::DtlsFingerprint& real) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  dp::DtlsFingerprint out = real;
  for (char& c : out.value) {
    const int v = hex_value(c);
    if (v >= 0) c = kHex[15 - v];
  }
  return out;
}

const char* dtls_role_name(dp::DtlsRole role) {
  return role == dp::DtlsRole::client ? "client" : "server";
}

}  // namespace weir::pktgen
