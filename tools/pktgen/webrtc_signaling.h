// The WebRTC side of the broadcaster API as pktgen speaks it (signaling contract 5.3 and
// 7): reading weir's transport answer and restartIce answer, and writing the connect body.
// Pure JSON work, no HTTP.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/dtls_transport.h"
#include "dataplane/socket_address.h"
#include "ice_check.h"

namespace weir::pktgen {

// What weir's answer to POST .../transports {"type":"webrtc"} says about its end.
struct WebRtcRemote {
  IceCredentials ice;
  dp::SocketAddress candidate;  // the first UDP candidate
  std::vector<dp::DtlsFingerprint> fingerprints;
};

bool parse_webrtc_transport(const nlohmann::json& answer, WebRtcRemote& out, std::string* error);
// iceParameters, or the restartIce answer (the same three fields).
bool parse_ice_parameters(const nlohmann::json& ice, IceCredentials& out, std::string* error);

// A WebRTC consumer's MID and the id of the MID header extension weir writes it with, from
// the consume answer's rtpParameters; false with *error when either is missing.
bool read_consumer_mid(const nlohmann::json& rtp_parameters, std::string& mid,
                       uint8_t& extension_id, std::string* error);

// {"dtlsParameters":{"role":..., "fingerprints":[fingerprint]}}: role is pktgen's own.
nlohmann::json webrtc_connect_body(dp::DtlsRole own_role, const dp::DtlsFingerprint& fingerprint);

// The sha-256 entry of a certificate's fingerprints (the one browsers signal).
dp::DtlsFingerprint sha256_fingerprint(const dp::DtlsCertificate& certificate);
// A well-formed fingerprint of the same algorithm that no certificate of this run has:
// every byte of the real one inverted.
dp::DtlsFingerprint wrong_fingerprint(const dp::DtlsFingerprint& real);

const char* dtls_role_name(dp::DtlsRole role);

}  // namespace weir::pktgen
