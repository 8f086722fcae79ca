// Shape checks for RtpCapabilities and RtpParameters (contract section 5.1 and 5.2), done
// once where untrusted JSON enters. They normalise in place the way mediasoup does (kind
// from mimeType, channels for audio, empty parameters/rtcpFeedback, feedback parameter
// "", encodings default) so the ORTC functions can read fields without checking again.
// Errors are ControlError(invalid) naming the field under path, e.g.
// "invalid field body.rtpParameters.codecs[1].payloadType (must be an integer)".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace weir::control {

void validate_rtp_capabilities(nlohmann::json& caps, const std::string& path);
void validate_rtp_codec_capability(nlohmann::json& codec, const std::string& path);
void validate_rtp_parameters(nlohmann::json& params, const std::string& path);

// The worker-side checks of mediasoup's Producer (contract 6.3 step 8) plus weir's:
// codecs agree with kind, at least one media codec, unique PTs, ssrc or rid where needed.
void validate_producer_rtp_parameters(const nlohmann::json& params, const std::string& kind,
                                      const std::string& path);

}  // namespace weir::control
