// ORTC: how the router's codecs and header extensions meet a producer's and a consumer's,
// following mediasoup 3.19.3's ortc module (contract section 6). Pure functions over
// validated JSON (see rtp_validation.h); JSON values keep their type end to end, so a
// number the browser sent stays a number in what consumers receive. Failures throw
// ControlError: invalid (a field is wrong) or refused (well formed, cannot be served).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace weir::control {

// The mediasoup-demo default media codecs: opus 48000/2, VP8, VP9 profile-id 2, H264
// 4d0032 and 42e01f (packetization-mode 1), x-google-start-bitrate 1000 on video.
nlohmann::json default_media_codecs();

// Router RtpCapabilities from configured media codecs (contract 6.1). Throws on a codec
// the supported list lacks, a bad codec shape, or a duplicated payload type.
nlohmann::json generate_router_rtp_capabilities(const nlohmann::json& media_codecs);

struct CodecMapping {
  int payload_type;         // the producer's
  int mapped_payload_type;  // the router's
};
struct EncodingMapping {
  std::optional<uint32_t> ssrc;
  std::optional<std::string> rid;
  std::optional<std::string> scalability_mode;
  uint32_t mapped_ssrc;
};
struct RtpMapping {
  std::vector<CodecMapping> codecs;  // media and RTX
  std::vector<EncodingMapping> encodings;
};

// Contract 6.3 steps 4-7. first_mapped_ssrc: mediasoup draws it at random in
// 100000000..999999999; the caller does, so that tests are deterministic.
RtpMapping get_producer_rtp_parameter_mapping(const nlohmann::json& params,
                                              const nlohmann::json& router_caps,
                                              uint32_t first_mapped_ssrc);

// Contract 6.4: the producer's media in router terms (router PTs, router extension ids).
nlohmann::json get_consumable_rtp_parameters(const std::string& kind, const nlohmann::json& params,
                                             const nlohmann::json& router_caps,
                                             const RtpMapping& mapping);

// Contract 6.4: a consumable codec strictly matches a capability codec, and the first
// match is media, not RTX. caps must have been validated.
bool can_consume(const nlohmann::json& consumable_params, const nlohmann::json& caps);

// Contract 6.5, without mid (the caller adds one where the transport has MIDs). ssrc is
// the consumer's SSRC (RTX uses ssrc + 1). Throws unsupported "no compatible media codecs".
nlohmann::json get_consumer_rtp_parameters(const nlohmann::json& consumable_params,
                                           const nlohmann::json& caps, bool enable_rtx,
                                           uint32_t ssrc);

// Contract 6.6: "simple", "simulcast" or "svc".
std::string producer_type(const nlohmann::json& params);

struct ScalabilityMode {
  int spatial_layers = 1;
  int temporal_layers = 1;
  bool ksvc = false;
};
// "L1T3" -> {1,3}; "S3T3" -> {3,3}; "L3T3_KEY" -> {3,3,true}; anything else -> {1,1}.
ScalabilityMode parse_scalability_mode(const std::string& mode);

}  // namespace weir::control
