// What a router can be configured with: mediasoup's supportedRtpCapabilities. Codecs are
// the 3.19.3 list (with AV1, without H264-SVC/H265). Header extensions and their default
// ids are those of the known-good SFU recorded in tests/fixtures/real-sessions (mediasoup
// 3.27.1): the ids real Chromium sessions were negotiated with, kept stable from now on.
#pragma once

#include <nlohmann/json.hpp>

namespace weir::control {

// {codecs:[RtpCodecCapability], headerExtensions:[RtpHeaderExtension]}, normalised as
// validate_rtp_capabilities() would leave it (channels, parameters, rtcpFeedback filled).
const nlohmann::json& supported_rtp_capabilities();

}  // namespace weir::control
