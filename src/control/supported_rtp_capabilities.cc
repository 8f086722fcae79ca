#include "control/supported_rtp_capabilities.h"

namespace weir::control {

namespace {

using nlohmann::json;

json feedback(std::initializer_list<std::pair<const char*, const char*>> entries) {
  json list = json::array();
  for (const auto& [type, parameter] : entries) {
    list.push_back({{"type", type}, {"parameter", parameter}});
  }
  return list;
}

json audio(const char* mime, int clock_rate, int channels, json rtcp_feedback,
           json parameters = json::object(), int static_pt = -1) {
  json codec = {{"kind", "audio"},
                {"mimeType", mime},
                {"clockRate", clock_rate},
                {"channels", channels},
                {"parameters", std::move(parameters)},
                {"rtcpFeedback", std::move(rtcp_feedback)}};
  if (static_pt >= 0) codec["preferredPayloadType"] = static_pt;
  return codec;
}

json video(const char* mime, json parameters = json::object()) {
  return {{"kind", "video"},
          {"mimeType", mime},
          {"clockRate", 90000},
          {"parameters", std::move(parameters)},
          {"rtcpFeedback", feedback({{"nack", ""},
                                     {"nack", "pli"},
                                     {"ccm", "fir"},
                                     {"goog-remb", ""},
                                     {"transport-cc", ""}})}};
}

json extension(const char* kind, const char* uri, int id, const char* direction) {
  return {{"kind", kind},
          {"uri", uri},
          {"preferredId", id},
          {"preferredEncrypt", false},
          {"direction", direction}};
}

json build() {
  const json nack_twcc = feedback({{"nack", ""}, {"transport-cc", ""}});
  const json twcc = feedback({{"transport-cc", ""}});
  json codecs = json::array({
      audio("audio/opus", 48000, 2, nack_twcc),
      audio("audio/multiopus", 48000, 4, nack_twcc,
            {{"channel_mapping", "0,1,2,3"}, {"num_streams", 2}, {"coupled_streams", 2}}),
      audio("audio/multiopus", 48000, 6, nack_twcc,
            {{"channel_mapping", "0,4,1,2,3,5"}, {"num_streams", 4}, {"coupled_streams", 2}}),
      audio("audio/multiopus", 48000, 8, nack_twcc,
            {{"channel_mapping", "0,6,1,2,3,4,5,7"}, {"num_streams", 5}, {"coupled_streams", 3}}),
      audio("audio/PCMU", 8000, 1, twcc, json::object(), 0),
      audio("audio/PCMA", 8000, 1, twcc, json::object(), 8),
      audio("audio/ISAC", 32000, 1, twcc),
      audio("audio/ISAC", 16000, 1, twcc),
      audio("audio/G722", 8000, 1, twcc, json::object(), 9),
      audio("audio/iLBC", 8000, 1, twcc),
      audio("audio/SILK", 24000, 1, twcc),
      audio("audio/SILK", 16000, 1, twcc),
      audio("audio/SILK", 12000, 1, twcc),
      audio("audio/SILK", 8000, 1, twcc),
      audio("audio/CN", 32000, 1, json::array(), json::object(), 13),
      audio("audio/CN", 16000, 1, json::array(), json::object(), 13),
      audio("audio/CN", 8000, 1, json::array(), json::object(), 13),
      audio("audio/telephone-event", 48000, 1, json::array()),
      audio("audio/telephone-event", 32000, 1, json::array()),
      audio("audio/telephone-event", 16000, 1, json::array()),
      audio("audio/telephone-event", 8000, 1, json::array()),
      video("video/VP8"),
      video("video/VP9"),
      video("video/H264", {{"level-asymmetry-allowed", 1}}),
      video("video/AV1"),
  });
  constexpr const char* kTwcc =
      "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
  json extensions = json::array({
      extension("audio", "urn:ietf:params:rtp-hdrext:sdes:mid", 1, "sendrecv"),
      extension("video", "urn:ietf:params:rtp-hdrext:sdes:mid", 1, "sendrecv"),
      extension("video", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 2, "recvonly"),
      extension("video", "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", 3, "recvonly"),
      extension("audio", "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 4,
                "sendrecv"),
      extension("video", "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 4,
                "sendrecv"),
      // Audio twcc is receive-only: browsers send it, the router never does for audio.
      extension("audio", kTwcc, 5, "recvonly"),
      extension("video", kTwcc, 5, "sendrecv"),
      extension("audio", "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 6, "sendrecv"),
      extension("video",
                "https://aomediacodec.github.io/av1-rtp-spec/"
                "#dependency-descriptor-rtp-header-extension",
                7, "recvonly"),
      extension("video", "urn:3gpp:video-orientation", 8, "sendrecv"),
      extension("video", "urn:ietf:params:rtp-hdrext:toffset", 9, "sendrecv"),
      extension("audio", "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time", 10,
                "sendrecv"),
      extension("video", "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time", 10,
                "sendrecv"),
      extension("audio", "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay", 11,
                "sendrecv"),
      extension("video", "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay", 11,
                "sendrecv"),
      extension("audio", "urn:mediasoup:params:rtp-hdrext:packet-id", 12, "sendrecv"),
      extension("video", "urn:mediasoup:params:rtp-hdrext:packet-id", 12, "sendrecv"),
  });
  return {{"codecs", std::move(codecs)}, {"headerExtensions", std::move(extensions)}};
}

}  // namespace

const json& supported_rtp_capabilities() {
  // Built once, on the control thread's first use; read-only afterwards.
  static const json caps = build();
  return caps;
}

}  // namespace weir::control
