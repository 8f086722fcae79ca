// weir's WebRTC answers as signaling contract 5.3 shapes them, and the connect body.
#include "webrtc_signaling.h"

#include <gtest/gtest.h>

namespace weir::pktgen {
namespace {

using json = nlohmann::json;

json weir_answer() {
  return json::parse(R"({
    "id": "t1",
    "iceParameters": {"usernameFragment": "uf", "password": "pw", "iceLite": true},
    "iceCandidates": [
      {"foundation": "tcpcandidate", "priority": 1, "ip": "127.0.0.1", "address": "127.0.0.1",
       "protocol": "tcp", "port": 1111, "type": "host", "tcpType": "passive"},
      {"foundation": "udpcandidate", "priority": 2, "ip": "10.0.0.1", "address": "127.0.0.1",
       "protocol": "udp", "port": 44444, "type": "host"}],
    "dtlsParameters": {"role": "auto", "fingerprints": [
      {"algorithm": "sha-1", "value": "11:22"},
      {"algorithm": "sha-256", "value": "AA:BB:CC"}]}})");
}

TEST(WebRtcSignaling, ReadsTransportAnswer) {
  WebRtcRemote r;
  std::string error;
  ASSERT_TRUE(parse_webrtc_transport(weir_answer(), r, &error)) << error;
  EXPECT_EQ(r.ice.ufrag, "uf");
  EXPECT_EQ(r.ice.password, "pw");
  // The UDP candidate, by its "address" (newer) before "ip".
  EXPECT_EQ(r.candidate.to_string(), "127.0.0.1:44444");
  // Only the last fingerprint, as a browser would.
  ASSERT_EQ(r.fingerprints.size(), 1u);
  EXPECT_EQ(r.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(r.fingerprints[0].value, "AA:BB:CC");
}

TEST(WebRtcSignaling, OlderCandidatesWithIpOnly) {
  json a = weir_answer();
  a["iceCandidates"][1].erase("address");
  WebRtcRemote r;
  std::string error;
  ASSERT_TRUE(parse_webrtc_transport(a, r, &error)) << error;
  EXPECT_EQ(r.candidate.to_string(), "10.0.0.1:44444");
}

TEST(WebRtcSignaling, RefusesWhatPktgenCannotUse) {
  WebRtcRemote r;
  std::string error;
  json a = weir_answer();
  a["iceParameters"]["iceLite"] = false;
  EXPECT_FALSE(parse_webrtc_transport(a, r, &error));
  EXPECT_NE(error.find("iceLite"), std::string::npos);
  a = weir_answer();
  a["iceCandidates"].erase(1);
  EXPECT_FALSE(parse_webrtc_transport(a, r, &error));
  EXPECT_NE(error.find("UDP candidate"), std::string::npos);
  a = weir_answer();
  a["dtlsParameters"]["fingerprints"] = json::array();
  EXPECT_FALSE(parse_webrtc_transport(a, r, &error));
  a = weir_answer();
  a["dtlsParameters"]["fingerprints"][1]["algorithm"] = "md5";
  EXPECT_FALSE(parse_webrtc_transport(a, r, &error));
  a = weir_answer();
  a.erase("iceParameters");
  EXPECT_FALSE(parse_webrtc_transport(a, r, &error));
}

TEST(WebRtcSignaling, RestartIceAnswer) {
  IceCredentials c;
  std::string error;
  ASSERT_TRUE(parse_ice_parameters(
      json{{"usernameFragment", "u2"}, {"password", "p2"}, {"iceLite", true}}, c, &error));
  EXPECT_EQ(c.ufrag, "u2");
  EXPECT_EQ(c.password, "p2");
  EXPECT_FALSE(parse_ice_parameters(json{{"usernameFragment", "u2"}}, c, &error));
}

TEST(WebRtcSignaling, ConnectBody) {
  const json body = webrtc_connect_body(dp::DtlsRole::server, {"sha-256", "AA:BB"});
  EXPECT_EQ(body.dump(),
            R"({"dtlsParameters":{"fingerprints":[{"algorithm":"sha-256","value":"AA:BB"}],)"
            R"("role":"server"}})");
  EXPECT_EQ(webrtc_connect_body(dp::DtlsRole::client, {"sha-256", "AA"})["dtlsParameters"]["role"],
            "client");
}

TEST(WebRtcSignaling, WrongFingerprintKeepsTheShape) {
  const dp::DtlsFingerprint real{"sha-256", "0F:A1:b2:FF"};
  const dp::DtlsFingerprint wrong = wrong_fingerprint(real);
  EXPECT_EQ(wrong.algorithm, "sha-256");
  EXPECT_EQ(wrong.value, "F0:5E:4D:00");
}

TEST(WebRtcSignaling, CertificateSha256) {
  std::string error;
  auto cert = dp::DtlsCertificate::generate(&error);
  ASSERT_TRUE(cert) << error;
  const dp::DtlsFingerprint f = sha256_fingerprint(*cert);
  EXPECT_EQ(f.algorithm, "sha-256");
  EXPECT_EQ(f.value, dp::dtls_certificate_fingerprint(cert->x509(), "sha-256"));
  EXPECT_EQ(f.value.size(), 32u * 3 - 1);
}

TEST(WebRtcSignaling, ConsumerMid) {
  const json rtp = json::parse(R"({"mid": "3", "headerExtensions": [
      {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1},
      {"uri": "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", "id": 4}]})");
  std::string mid, error;
  uint8_t id = 0;
  ASSERT_TRUE(read_consumer_mid(rtp, mid, id, &error)) << error;
  EXPECT_EQ(mid, "3");
  EXPECT_EQ(id, 1);
  json no_ext = rtp;
  no_ext["headerExtensions"].erase(0);
  EXPECT_FALSE(read_consumer_mid(no_ext, mid, id, &error));
  json no_mid = rtp;
  no_mid.erase("mid");
  EXPECT_FALSE(read_consumer_mid(no_mid, mid, id, &error));
}

}  // namespace
}  // namespace weir::pktgen
