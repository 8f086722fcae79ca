// Codec equivalence as mediasoup's ortc.matchCodecs decides it (contract section 6.2).
// Codecs are validated JSON objects (RtpCodecCapability or RtpCodecParameters): mimeType,
// clockRate, channels (audio) and parameters present. Parameter values compare with their
// JSON type: "1" never equals 1, which is exactly what browsers' clients do.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace weir::control {

std::string lower_mime_type(const nlohmann::json& codec);
bool is_rtx_codec(const nlohmann::json& codec);

// Non-strict: mimeType (case-insensitive), clockRate, channels, and multiopus stream
// counts. Strict adds H264 packetization-mode and profile, VP9 profile-id.
bool match_codecs(const nlohmann::json& a, const nlohmann::json& b, bool strict);

}  // namespace weir::control
